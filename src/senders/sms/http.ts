// A generic SMS gateway: POST JSON {to, text} to a URL, with an optional auth header.
// authHeader is either a whole Authorization value ("Bearer abc") or "Header-Name: value".
import { fetchFailure, ProviderError } from './provider-error.ts';
import type { SmsSender } from './port.ts';

export const parseAuthHeader = (authHeader: string | undefined): Record<string, string> => {
  if (!authHeader?.trim()) return {};
  const named = /^([A-Za-z0-9-]+):\s*(.+)$/.exec(authHeader.trim());
  return named ? { [named[1] as string]: named[2] as string } : { authorization: authHeader.trim() };
};

export const createHttpSmsSender = (opts: { url: string; authHeader?: string; timeoutMs?: number }): SmsSender => {
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...parseAuthHeader(opts.authHeader) };
  return {
    name: 'http',
    send: async ({ to, text }) => {
      let res: Response;
      try {
        res = await fetch(opts.url, { method: 'POST', headers, body: JSON.stringify({ to, text }), signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
      } catch (err) {
        throw fetchFailure('http', err);
      }
      const body = await res.text().catch(() => '');
      if (!res.ok) throw new ProviderError('http', `http ${res.status}`, { status: res.status });
      try {
        const json = JSON.parse(body) as Record<string, unknown>;
        const id = json.id ?? json.messageId ?? json.providerId;
        return typeof id === 'string' || typeof id === 'number' ? { providerId: String(id) } : {};
      } catch {
        return {};
      }
    },
  };
};
