// Chooses the email adapter from an env object (never process.env directly):
// SECUREKEY_SMTP_URL set → SMTP (needs SECUREKEY_EMAIL_FROM), else console. nodemailer is loaded
// only when SMTP is chosen (it holds megabytes of code in memory).
import { envFlag } from '../sms/provider-error.ts';
import { createConsoleEmailSender } from './console.ts';
import type { EmailSender } from './port.ts';

export const createEmailSenderFromEnv = async (env: Record<string, string | undefined>, opts: { log?: (line: string) => void } = {}): Promise<EmailSender> => {
  const url = env.SECUREKEY_SMTP_URL?.trim();
  if (!url) return createConsoleEmailSender({ devMode: envFlag(env.SECUREKEY_DEV_MODE), log: opts.log });
  const from = env.SECUREKEY_EMAIL_FROM?.trim();
  if (!from) throw new Error('SECUREKEY_SMTP_URL is set: SECUREKEY_EMAIL_FROM (e.g. "SecureKey <no-reply@example.com>") is needed too');
  const { createSmtpEmailSender } = await import('./smtp.ts');
  return createSmtpEmailSender({ url, from });
};
