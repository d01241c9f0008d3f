// Webhook signature checks for receivers. SecureKey signs each delivery with
//   X-SecureKey-Signature:    sha256=<hex HMAC-SHA256(secret, raw body)>   (what the seed checks)
//   X-SecureKey-Signature-V2: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${raw body}`)>
// V2 also protects against replays of an old delivery. Both compare in constant time.
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
