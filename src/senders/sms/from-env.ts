// Chooses the SMS adapter from an env object (never process.env directly):
// SECUREKEY_SMS_PROVIDER = console (default) | http | twilio.
import { createConsoleSmsSender } from './console.ts';
import { createHttpSmsSender } from './http.ts';
import type { SmsSender } from './port.ts';
import { envFlag } from './provider-error.ts';
import { createTwilioSmsSender } from './twilio.ts';

export type SenderEnv = Record<string, string | undefined>;

const required = (env: SenderEnv, names: string[], provider: string): void => {
  const missing = names.filter((n) => !env[n]?.trim());
  if (missing.length) throw new Error(`SECUREKEY_SMS_PROVIDER=${provider} needs ${missing.join(', ')}`);
};

export const createSmsSenderFromEnv = (env: SenderEnv, opts: { log?: (line: string) => void } = {}): SmsSender => {
  const provider = (env.SECUREKEY_SMS_PROVIDER?.trim() || 'console').toLowerCase();
  switch (provider) {
    case 'console':
      return createConsoleSmsSender({ devMode: envFlag(env.SECUREKEY_DEV_MODE), log: opts.log });
    case 'http':
      required(env, ['SECUREKEY_SMS_HTTP_URL'], provider);
      return createHttpSmsSender({ url: env.SECUREKEY_SMS_HTTP_URL as string, authHeader: env.SECUREKEY_SMS_HTTP_AUTH });
    case 'twilio':
      required(env, ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'], provider);
      return createTwilioSmsSender({
        accountSid: env.TWILIO_ACCOUNT_SID as string,
        authToken: env.TWILIO_AUTH_TOKEN as string,
        from: env.TWILIO_FROM as string,
        baseUrl: env.TWILIO_BASE_URL || undefined,
      });
    default:
      throw new Error(`SECUREKEY_SMS_PROVIDER: expected console, http or twilio, got "${provider}"`);
  }
};
