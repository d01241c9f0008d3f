// Webhook signatures. X-SecureKey-Signature is exactly what the seed's receivers check:
// "sha256=" + hex HMAC-SHA256(secret, raw body). X-SecureKey-Signature-V2 adds replay protection
// (Stripe-style): "t=<unix seconds>,v1=<hex HMAC(secret, `${t}.${body}`)>", with one more v1 entry
// for the previous secret while a rotation's grace period runs.
import { createHmac } from 'node:crypto';
import { safeEqual } from '../crypto/keyring.ts';

export const SIGNATURE_HEADER = 'X-SecureKey-Signature';
export const SIGNATURE_V2_HEADER = 'X-SecureKey-Signature-V2';
/** sha256=… with the previous secret, sent only during a rotation's grace period. */
export const PREVIOUS_SIGNATURE_HEADER = 'X-SecureKey-Signature-Previous';
export const EVENT_ID_HEADER = 'X-SecureKey-Event-Id';
export const TIMESTAMP_HEADER = 'X-SecureKey-Timestamp';
export const DELIVERY_ID_HEADER = 'X-SecureKey-Delivery-Id';

const hmacHex = (secret: string, data: string) => createHmac('sha256', secret).update(data, 'utf8').digest('hex');

export const signBody = (secret: string, body: string) => `sha256=${hmacHex(secret, body)}`;

export const signV2 = (secrets: string[], body: string, t: number) => [`t=${t}`, ...secrets.map((s) => `v1=${hmacHex(s, `${t}.${body}`)}`)].join(',');

/** Every header of one delivery attempt. t: unix seconds. */
export const webhookHeaders = (o: {
  secret: string;
  previousSecret?: string | null;
  body: string;
  t: number;
  eventId: string;
  deliveryId: string;
  userAgent?: string;
}): Record<string, string> => ({
  'Content-Type': 'application/json',
  'User-Agent': o.userAgent ?? 'SecureKey-Webhooks/1',
  [EVENT_ID_HEADER]: o.eventId,
  [DELIVERY_ID_HEADER]: o.deliveryId,
  [TIMESTAMP_HEADER]: String(o.t),
  [SIGNATURE_HEADER]: signBody(o.secret, o.body),
  [SIGNATURE_V2_HEADER]: signV2(o.previousSecret ? [o.secret, o.previousSecret] : [o.secret], o.body, o.t),
  ...(o.previousSecret ? { [PREVIOUS_SIGNATURE_HEADER]: signBody(o.previousSecret, o.body) } : {}),
});

/** For receivers (and our tests): checks a V2 header against the raw body, refusing a timestamp
 * older or newer than toleranceSeconds. nowSeconds: the receiver's clock, unix seconds. */
export const verifyV2 = (o: { header: string; body: string; secret: string; nowSeconds: number; toleranceSeconds?: number }): boolean => {
  const parts = o.header.split(',').map((p) => p.trim().split('=') as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(o.nowSeconds - t) > (o.toleranceSeconds ?? 300)) return false;
  const expected = hmacHex(o.secret, `${t}.${o.body}`);
  return parts.filter(([k]) => k === 'v1').some(([, v]) => safeEqual(v ?? '', expected));
};
