// The delivery rules of the SQLite worker (worker.ts) as pure functions (no I/O, no clock, no
// randomness of their own), like the KurrentDB processor's (kurrent/decisions.ts), which shares
// the backoff below, the POST classification (post.ts) and the secret rule (secrets.ts).
import { type AttemptResult, describeAttempt, isSuccess } from './post.ts';
import { type EndpointSecretsRow, signingSecretsEnc } from './secrets.ts';
import { webhookHeaders } from './sign.ts';

export type BackoffPolicy = {
  /** Delay after the first failure, ms. */
  baseMs: number;
  /** Cap, ms. */
  maxMs: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
};

/** Delay before the next attempt after `failures` failures: exponential, capped, "equal jitter"
 * (between half and all of the step), so retries of many deliveries spread out. */
export const backoffDelay = (failures: number, b: BackoffPolicy, random: () => number): number => {
  const step = Math.min(b.maxMs, b.baseMs * (b.factor ?? 2) ** Math.max(0, failures - 1));
  return Math.round(step / 2 + random() * (step / 2));
};

/** A due delivery as the worker reads it. */
export type DueDelivery = { deliveryId: string; eventId: string; body: string; createdAt: number; attempts: number; roundAttempts: number };

export type AttemptPlan = { kind: 'send'; url: string; headers: Record<string, string> } | { kind: 'dead'; reason: string };

/** Before an attempt: send (URL and signed headers), or give the delivery up for good (dead). A
 * first attempt later than maxAgeMs after the event is not made, so a rebuilt database does not
 * replay old history to receivers. now: epoch ms. decrypt: 'webhook-secret' (throws on a wrong key). */
export const planAttempt = (o: {
  delivery: DueDelivery;
  endpoint: (EndpointSecretsRow & { url: string }) | undefined;
  decrypt: (enc: string) => string;
  now: number;
  maxAgeMs: number;
  secretGraceMs: number;
}): AttemptPlan => {
  const d = o.delivery;
  if (d.attempts === 0 && d.roundAttempts === 0 && o.now - d.createdAt > o.maxAgeMs) return { kind: 'dead', reason: `not sent: the event is older than ${Math.round(o.maxAgeMs / 3600_000)} h` };
  if (!o.endpoint?.url) return { kind: 'dead', reason: 'no webhook URL configured' };
  const secretsEnc = signingSecretsEnc(o.endpoint, o.now, o.secretGraceMs);
  if (secretsEnc.length === 0) return { kind: 'dead', reason: 'no webhook secret: rotate the webhook secret, then redeliver' };
  let secrets: string[];
  try {
    secrets = secretsEnc.map(o.decrypt);
  } catch {
    return { kind: 'dead', reason: 'webhook secret cannot be decrypted with this master key' };
  }
  const headers = webhookHeaders({ secret: secrets[0]!, previousSecret: secrets[1] ?? null, body: d.body, t: Math.floor(o.now / 1000), eventId: d.eventId, deliveryId: d.deliveryId });
  return { kind: 'send', url: o.endpoint.url, headers };
};

export type AttemptOutcome =
  | { status: 'delivered'; statusCode: number }
  | { status: 'pending'; statusCode: number | null; error: string; nextAttemptAt: number }
  | { status: 'dead'; statusCode: number | null; error: string };

/** After an attempt (the roundAttempts-th of this (re)delivery round): delivered on a 2xx, else
 * retried after the backoff delay until maxAttempts are spent, then dead. */
export const afterAttempt = (o: { result: AttemptResult; roundAttempts: number; maxAttempts: number; backoff: BackoffPolicy; random: () => number; now: number }): AttemptOutcome => {
  const statusCode = 'status' in o.result ? o.result.status : null;
  if (isSuccess(o.result) && statusCode !== null) return { status: 'delivered', statusCode };
  const error = describeAttempt(o.result);
  if (o.roundAttempts >= o.maxAttempts) return { status: 'dead', statusCode, error };
  return { status: 'pending', statusCode, error, nextAttemptAt: o.now + backoffDelay(o.roundAttempts, o.backoff, o.random) };
};
