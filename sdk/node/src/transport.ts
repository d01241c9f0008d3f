// One POST to /api/v1/<path> with the API key, a per-attempt timeout, the envelope unwrapped,
// and failures turned into SecureKeyError.
//
// Retry policy (see README): only calls marked `idempotent` are retried, at most `retries` times
// (default 2) with exponential backoff and jitter, and only when the request certainly did not
// produce an answer the caller should see: a network error before any response, or 502/503/504
// (waiting Retry-After when the server gives one of at most MAX_RETRY_AFTER_S seconds).
// Sends (SMS, email, push) and verifications that consume an attempt are never retried: a lost
// response may hide a delivered message or a used attempt. 429s are never retried; their
// `retryAfter` is on the error. Timeouts are not retried either: timeoutMs bounds each attempt.
import { SecureKeyError } from './errors.ts';

export type ClientOptions = {
  /** The tenant's API key (2fa_...). */
  apiKey: string;
  /** The server root, e.g. https://securekey.example.com (the SDK appends /api/v1). */
  baseUrl: string;
  /** Per-attempt timeout in milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Retries for idempotent calls (default 2; 0 disables). */
  retries?: number;
  /** A fetch implementation (default: the global fetch). */
  fetch?: typeof fetch;
};

export type Transport = {
  post: <T>(path: string, body: object, opts?: { idempotent?: boolean }) => Promise<T>;
};

const MAX_RETRY_AFTER_S = 5;
const BASE_DELAY_MS = 200;
const RETRYABLE_STATUS = new Set([502, 503, 504]);

type Envelope = {
  success?: unknown;
  data?: unknown;
  error?: unknown;
  message?: unknown;
  code?: unknown;
  requiredChannels?: unknown;
  matchedPolicies?: unknown;
  retryAfter?: unknown;
};

const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);

const retryAfterOf = (env: Envelope | undefined, header: string | null): number | undefined => {
  if (typeof env?.retryAfter === 'number' && env.retryAfter >= 0) return env.retryAfter;
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
};

const codeForStatus = (status: number): string =>
  status === 401 ? 'UNAUTHORIZED'
  : status === 404 ? 'NOT_FOUND'
  : status === 429 ? 'RATE_LIMITED'
  : RETRYABLE_STATUS.has(status) ? 'UNAVAILABLE'
  : status >= 500 ? 'INTERNAL'
  : `HTTP_${status}`;

/** The innermost reason a fetch failed, e.g. "connect ECONNREFUSED 127.0.0.1:8080" (Node) or "Failed to fetch" (browsers). */
export const causeOf = (err: unknown): string => {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object' && 'cause' in e && e.cause; depth++) e = e.cause;
  if (e && typeof e === 'object' && 'errors' in e && Array.isArray(e.errors) && e.errors.length) e = e.errors[0]; // AggregateError: one per address tried
  const { message, code } = (e ?? {}) as { message?: unknown; code?: unknown };
  return (typeof message === 'string' && message) || (typeof code === 'string' && code) || String(e);
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The server root plus /api/v1 (a baseUrl already ending in /api/v1 is accepted as well). */
export const apiRoot = (baseUrl: string): string => {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`baseUrl must be an absolute http(s) URL, got ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`baseUrl must be http(s), got ${url.protocol}`);
  const root = url.href.replace(/[?#].*$/, '').replace(/\/+$/, '');
  return root.endsWith('/api/v1') ? root : `${root}/api/v1`;
};

export const createTransport = (options: ClientOptions): Transport => {
  if (typeof options.apiKey !== 'string' || !options.apiKey.trim()) throw new TypeError('apiKey is required');
  const root = apiRoot(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = Math.max(0, Math.floor(options.retries ?? 2));
  const doFetch = options.fetch ?? globalThis.fetch;
  const headers = { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': options.apiKey.trim() };

  const attempt = async (path: string, payload: string): Promise<{ ok: true; data: unknown } | { ok: false; error: SecureKeyError; retryable: boolean }> => {
    const url = root + path;
    let res: Response;
    let text: string;
    try {
      res = await doFetch(url, { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(timeoutMs) });
      text = await res.text();
    } catch (err) {
      const timedOut = (err as { name?: string })?.name === 'TimeoutError';
      return {
        ok: false,
        retryable: !timedOut,
        error: timedOut
          ? new SecureKeyError(`no answer from SecureKey at ${url} within ${timeoutMs} ms`, { code: 'TIMEOUT', status: 0, url, cause: err })
          : new SecureKeyError(`could not reach SecureKey at ${url}: ${causeOf(err)}`, { code: 'NETWORK_ERROR', status: 0, url, cause: err }),
      };
    }
    let env: Envelope | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && typeof (parsed as Envelope).success === 'boolean') env = parsed as Envelope;
    } catch {
      env = undefined;
    }
    if (res.ok && env?.success === true) return { ok: true, data: env.data ?? {} };
    const retryAfter = retryAfterOf(env, res.headers.get('retry-after'));
    if (res.ok) return { ok: false, retryable: false, error: new SecureKeyError(`unexpected answer from ${url} (HTTP ${res.status}): not a SecureKey response; check baseUrl`, { code: 'INVALID_RESPONSE', status: res.status, url }) };
    const error = new SecureKeyError(typeof env?.error === 'string' ? env.error : `${url} answered HTTP ${res.status} without a SecureKey error; check baseUrl`, {
      code: typeof env?.code === 'string' ? env.code : codeForStatus(res.status),
      status: res.status,
      url,
      requiredChannels: strings(env?.requiredChannels),
      matchedPolicies: strings(env?.matchedPolicies),
      retryAfter,
    });
    return { ok: false, error, retryable: RETRYABLE_STATUS.has(res.status) && (retryAfter === undefined || retryAfter <= MAX_RETRY_AFTER_S) };
  };

  return {
    post: async <T>(path: string, body: object, opts: { idempotent?: boolean } = {}): Promise<T> => {
      const payload = JSON.stringify(body);
      for (let n = 0; ; n++) {
        const r = await attempt(path, payload);
        if (r.ok) return r.data as T;
        if (!opts.idempotent || !r.retryable || n >= retries) throw r.error;
        const backoff = BASE_DELAY_MS * 2 ** n * (0.5 + Math.random() / 2);
        await sleep(Math.max(backoff, (r.error.retryAfter ?? 0) * 1000));
      }
    },
  };
};
