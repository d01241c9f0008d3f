// The auditor's view of history: one stream's or one user's events in log order, decoded, with
// personal data masked — no encrypted blobs, no hashes of codes or keys, no secrets, client IPs
// truncated, free text left out. Sealed personal values are opened first (src/privacy), so an
// erased user's events read "[erased]".
import { truncateIp } from '../../projections/audit/ip.ts';
import type { EventStore, StoredEvent } from '../eventstore/port.ts';
import { ERASED, type PersonalData } from '../privacy/personal-data.ts';
import { type UserEventsQuery, userEvents } from './user-events.ts';

export type HistoryEntry = {
  position: number;
  /** ISO time the event was recorded. */
  at: string;
  stream: string;
  revision: number;
  type: string;
  data: Record<string, unknown>;
  /** Who: tenantId, keyId, actor, requestId, userId, clientIp (truncated). */
  by: Record<string, unknown>;
};

const REDACT = /(Enc|Hash|hash|Hashes|Key)$|secret|token|challenge|publicKey|^code$/i;
const FREE_TEXT = new Set(['title', 'body']);
const SHORTEN = new Set(['deviceName', 'name']);

/** Event data as an auditor may see it. */
export const maskData = (data: unknown, key = ''): unknown => {
  if (Array.isArray(data)) return key === 'choices' ? '[redacted]' : data.map((v) => maskData(v));
  if (data === null || typeof data !== 'object') {
    if (typeof data === 'string' && SHORTEN.has(key) && data !== ERASED) return data.length > 1 ? `${data[0]}***` : '***';
    return data;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (REDACT.test(k)) out[k] = '[redacted]';
    else if (k === 'number') out[k] = '[redacted]';
    else if (FREE_TEXT.has(k) && typeof v === 'string' && v !== ERASED && !/^[a-z_]{1,40}$/.test(v)) out[k] = `[text, ${v.length} chars]`;
    else out[k] = maskData(v, k);
  }
  return out;
};

/** An event (its personal values opened) as an auditor reads it. */
export const toHistoryEntry = (e: StoredEvent): HistoryEntry => {
  const m = e.metadata ?? {};
  const by: Record<string, unknown> = {};
  for (const k of ['tenantId', 'keyId', 'actor', 'requestId', 'userId'] as const) if (m[k] !== undefined) by[k] = m[k];
  const ip = m.clientIp === ERASED ? ERASED : truncateIp(m.clientIp);
  if (ip) by.clientIp = ip;
  return { position: e.position, at: e.recordedAt.toISOString(), stream: e.streamName, revision: e.revision, type: e.type, data: maskData(e.data) as Record<string, unknown>, by };
};

export const streamHistory = async (store: EventStore, personal: PersonalData, stream: string): Promise<HistoryEntry[]> =>
  (await store.readStream(stream)).map((e) => toHistoryEntry(personal.open(e)));

/** One user's history, every generation (an erased one reads "[erased]"). */
export const userHistory = async (o: Omit<UserEventsQuery, 'currentOnly'>): Promise<HistoryEntry[]> => (await userEvents(o)).map(toHistoryEntry);

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
