// Twilio Messages API over fetch: form-encoded, basic auth (Account SID : Auth Token).
// `from` is a sender number, or a Messaging Service SID (MG...). baseUrl is overridable for tests.
import { fetchFailure, ProviderError } from './provider-error.ts';
import type { SmsSender } from './port.ts';

export type TwilioSmsOptions = { accountSid: string; authToken: string; from: string; baseUrl?: string; timeoutMs?: number };

export const createTwilioSmsSender = (opts: TwilioSmsOptions): SmsSender => {
  const base = (opts.baseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(opts.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString('base64')}`;
  return {
    name: 'twilio',
    send: async ({ to, text }) => {
      const form = new URLSearchParams({ To: to, Body: text });
      form.set(/^MG[0-9a-f]{32}$/i.test(opts.from) ? 'MessagingServiceSid' : 'From', opts.from);
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form.toString(),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
      } catch (err) {
        throw fetchFailure('twilio', err);
      }
      const json = (await res.json().catch(() => ({}))) as { sid?: unknown; code?: unknown };
      if (!res.ok) {
        // Twilio's message text can echo the number: keep only its numeric error code.
        const code = typeof json.code === 'number' ? ` (twilio ${json.code})` : '';
        throw new ProviderError('twilio', `http ${res.status}${code}`, { status: res.status });
      }
      return typeof json.sid === 'string' ? { providerId: json.sid } : {};
    },
  };
};
