// Email over SMTP with nodemailer: text + HTML. url: smtp://user:pass@host:587 or smtps://...:465.
import nodemailer from 'nodemailer';
import { ProviderError } from '../sms/provider-error.ts';
import type { EmailSender } from './port.ts';

/** Only the SMTP reply code or nodemailer's error code: the server's reply text may echo the address. */
const smtpReason = (err: unknown): string => {
  const e = err as { responseCode?: unknown; code?: unknown };
  if (typeof e?.responseCode === 'number') return `smtp ${e.responseCode}`;
  if (typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code)) return e.code === 'ETIMEDOUT' ? 'timeout' : e.code.toLowerCase();
  return 'error';
};

export const createSmtpEmailSender = (opts: { url: string; from: string; timeoutMs?: number }): EmailSender => {
  const timeout = opts.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({ url: opts.url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout });
  return {
    name: 'smtp',
    send: async ({ to, subject, text, html }) => {
      try {
        const info = await transport.sendMail({ from: opts.from, to, subject, text, html });
        return info.messageId ? { providerId: info.messageId } : {};
      } catch (err) {
        throw new ProviderError('smtp', smtpReason(err), { cause: err });
      }
    },
  };
};
