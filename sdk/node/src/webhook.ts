// Webhook signature checks for receivers. SecureKey signs each delivery with
//   X-SecureKey-Signature:    sha256=<hex HMAC-SHA256(secret, raw body)>   (what the seed checks)
//   X-SecureKey-Signature-V2: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${raw body}`)>
// V2 also protects against replays of an old delivery: verifyWebhook (V2, then the payload) is the
// default for receivers. All compare in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

type Body = string | Uint8Array;
type HeaderValue = string | string[] | null | undefined;

const first = (h: HeaderValue): string => (Array.isArray(h) ? (h[0] ?? '') : (h ?? '')).trim();

const hmac = (secret: string, ...parts: Body[]): Buffer => {
  const m = createHmac('sha256', secret);
  for (const p of parts) m.update(p);
  return m.digest();
};

const equalsHex = (hex: string, expected: Buffer): boolean => {
  if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
};

/**
 * True when `header` (the X-SecureKey-Signature value) is the HMAC of `rawBody` under `secret`.
 * Pass the body exactly as received (Buffer or string). JSON.stringify(req.body) works as well,
 * because SecureKey sends compact JSON.
 */
export const verifyWebhookSignature = (rawBody: Body, header: HeaderValue, secret: string): boolean => {
  const sig = first(header);
  if (!secret || !sig.toLowerCase().startsWith('sha256=')) return false;
  return equalsHex(sig.slice('sha256='.length), hmac(secret, rawBody));
};

/**
 * Checks X-SecureKey-Signature-V2 and refuses a timestamp further than toleranceSeconds
 * (default 300) from now. Any v1 entry may match (two are sent while a secret rotation runs).
 */
export const verifyWebhookSignatureV2 = (
  rawBody: Body,
  header: HeaderValue,
  secret: string,
  opts: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean => {
  if (!secret) return false;
  const parts = first(header).split(',').map((p) => p.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1] ?? '';
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!/^\d+$/.test(t) || Math.abs(now - Number(t)) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = hmac(secret, `${t}.`, rawBody);
  let ok = false;
  for (const [k, v] of parts) if (k === 'v1' && equalsHex(v ?? '', expected)) ok = true;
  return ok;
};

/** What a webhook delivery carries: JSON.stringify({ event, channel, data }). */
export type WebhookPayload = { event: string; channel: string; data: { externalUserId?: string | null } & Record<string, unknown> };

/** A delivery that did not pass verifyWebhook: answer it 401 (or 400) and do not act on it. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

type HeaderBag = Headers | Record<string, HeaderValue>;
const headerIn = (headers: HeaderBag, name: string): HeaderValue =>
  typeof (headers as Headers).get === 'function' ? (headers as Headers).get(name) : (headers as Record<string, HeaderValue>)[name];

/**
 * The default check for receivers: the timestamped X-SecureKey-Signature-V2 over the raw body
 * (replays older or newer than toleranceSeconds, default 300, are refused), then the payload.
 * Pass the body exactly as received and the request's headers (Node's req.headers or a fetch
 * Headers). Returns the parsed payload; throws WebhookVerificationError otherwise.
 */
export const verifyWebhook = (rawBody: Body, headers: HeaderBag, secret: string, opts: { toleranceSeconds?: number; nowSeconds?: number } = {}): WebhookPayload => {
  if (!verifyWebhookSignatureV2(rawBody, headerIn(headers, 'x-securekey-signature-v2'), secret, opts)) {
    throw new WebhookVerificationError('webhook signature (X-SecureKey-Signature-V2) missing, wrong or too old');
  }
  const text = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
  const payload = JSON.parse(text) as WebhookPayload;
  if (!payload || typeof payload.event !== 'string' || typeof payload.data !== 'object') throw new WebhookVerificationError('not a SecureKey webhook payload');
  return payload;
};
