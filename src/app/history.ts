// The auditor's view of history: one stream's or one user's events in log order, decoded, with
// personal data masked — no encrypted blobs, no hashes of codes or keys, no secrets, client IPs
// truncated, free text left out.
import type { DatabaseSync } from 'node:sqlite';
import { auditStreamsOfUser } from '../../projections/audit/index.ts';
import { truncateIp } from '../../projections/audit/ip.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { pushDevicesStream, pushInboxStream, pushRequestStream, USER_HASH_PURPOSE } from '../domain/push/streams.ts';
import { recoveryStreamName } from '../domain/recovery/decider.ts';
import { totpStreamName } from '../domain/totp/decider.ts';
import { webauthnStreamName } from '../domain/webauthn/credentials.ts';
import type { EventStore, StoredEvent } from '../eventstore/port.ts';
import { tenantOf, userOf } from '../eventstore/recorded.ts';

export type HistoryEntry = {
  position: number;
  /** ISO time the event was recorded. */
  at: string;
  stream: string;
  revision: number;
  type: string;
  data: Record<string, unknown>;
  /** Who: tenantId, keyId, actor, requestId, clientIp (truncated). */
  by: Record<string, unknown>;
};

const REDACT = /(Enc|Hash|hash|Hashes)$|secret|token|challenge|publicKey|^code$/i;
const FREE_TEXT = new Set(['title', 'body']);
const SHORTEN = new Set(['deviceName', 'name']);

/** Event data as an auditor may see it. */
export const maskData = (data: unknown, key = ''): unknown => {
  if (Array.isArray(data)) return key === 'choices' ? '[redacted]' : data.map((v) => maskData(v));
  if (data === null || typeof data !== 'object') {
    if (typeof data === 'string' && SHORTEN.has(key)) return data.length > 1 ? `${data[0]}***` : '***';
    return data;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (REDACT.test(k)) out[k] = '[redacted]';
    else if (k === 'number') out[k] = '[redacted]';
    else if (FREE_TEXT.has(k) && typeof v === 'string' && !/^[a-z_]{1,40}$/.test(v)) out[k] = `[text, ${v.length} chars]`;
    else out[k] = maskData(v, k);
  }
  return out;
};

export const toHistoryEntry = (e: StoredEvent): HistoryEntry => {
  const m = e.metadata ?? {};
  const by: Record<string, unknown> = {};
  for (const k of ['tenantId', 'keyId', 'actor', 'requestId', 'userId'] as const) if (m[k] !== undefined) by[k] = m[k];
  const ip = truncateIp(m.clientIp);
  if (ip) by.clientIp = ip;
  return { position: e.position, at: e.recordedAt.toISOString(), stream: e.streamName, revision: e.revision, type: e.type, data: maskData(e.data) as Record<string, unknown>, by };
};

export const streamHistory = async (store: EventStore, stream: string): Promise<HistoryEntry[]> => (await store.readStream(stream)).map(toHistoryEntry);

/** Everything about one user of one tenant: their TOTP, recovery code, passkey, push device and push request
 * streams (found by the keyed user hash), plus one-time codes sent for them. Codes are found
 * through the audit trail when auditDb is given, otherwise by scanning the log. */
export const userHistory = async (o: { store: EventStore; keyring: Keyring; tenantId: string; userId: string; auditDb?: DatabaseSync }): Promise<HistoryEntry[]> => {
  const { store, tenantId, userId } = o;
  const userKey = o.keyring.hmac(USER_HASH_PURPOSE, userId);
  const own = [totpStreamName(tenantId, userKey), recoveryStreamName(tenantId, userKey), webauthnStreamName(tenantId, userKey), pushDevicesStream(tenantId, userKey), pushInboxStream(tenantId, userKey)];
  const byPosition = new Map<number, StoredEvent>();
  const add = (e: StoredEvent) => byPosition.set(e.position, e);
  const requestIds = new Set<string>();
  for (const s of own) {
    for (const e of await store.readStream(s)) {
      add(e);
      if (typeof e.data.requestId === 'string') requestIds.add(e.data.requestId);
    }
  }
  for (const id of requestIds) for (const e of await store.readStream(pushRequestStream(tenantId, id))) add(e);
  // Shared streams (an OTP stream is per destination): only the events naming this user.
  const mine = (e: StoredEvent) => userOf(e) === userId && tenantOf(e) === tenantId;
  if (o.auditDb) {
    for (const s of auditStreamsOfUser(o.auditDb, tenantId, userId)) for (const e of await store.readStream(s)) if (mine(e)) add(e);
  } else {
    for (let from = 0; ; ) {
      const page = await store.readAll({ fromPosition: from, maxCount: 1000 });
      if (page.length === 0) break;
      for (const e of page) if (mine(e)) add(e);
      from = page[page.length - 1].position;
    }
  }
  return [...byPosition.values()].sort((a, b) => a.position - b.position).map(toHistoryEntry);
};

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** One line per event: "#12  2026-11-02T10:00:00.000Z  otp-tn_1.sms.ab12…@3  OtpVerified  purpose=login …  (key key_1, ip 203.0.113.0)" */
export const formatHistory = (entries: HistoryEntry[]): string =>
  entries
    .map((h) => {
      const stream = h.stream.length > 48 ? `${h.stream.slice(0, 47)}…` : h.stream;
      const fields = Object.entries(h.data).map(([k, v]) => `${k}=${show(v)}`).join(' ');
      const who = [h.by.keyId && `key ${h.by.keyId}`, h.by.actor && `by ${h.by.actor}`, h.by.clientIp && `ip ${h.by.clientIp}`].filter(Boolean).join(', ');
      return `#${h.position}  ${h.at}  ${stream}@${h.revision}  ${h.type}  ${fields}${who ? `  (${who})` : ''}`;
    })
    .join('\n');
