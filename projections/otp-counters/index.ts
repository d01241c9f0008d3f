// Rate-limit counters for one-time codes (SMS pumping defences): one row per issued code, kept two
// days, with who asked for it (the requester's keyed hash: per-requester caps). Codes whose delivery
// failed do not count (they cost nothing and the user must be able to retry), nor codes sent before
// a reset of the destination's limits (OtpLimitsReset: forgiven). The per-code attempt limit is NOT here: it stays in the aggregate, never eventually
// consistent. Idempotent by construction (INSERT OR IGNORE on otpId, idempotent UPDATE).
import type { DatabaseSync } from 'node:sqlite';
import type { DestinationSend } from '../../src/domain/otp/caps.ts';
import type { EventOfType } from '../../src/domain/events.ts';
import { parseOtpStream } from '../../src/domain/otp/stream.ts';
import type { Recorded } from '../../src/eventstore/recorded.ts';
import { projection } from '../runtime.ts';
import { prepared } from '../sql.ts';

/** Rows older than this (by event time, so a replay prunes alike) are deleted. */
export const OTP_COUNTERS_RETENTION_MS = 2 * 24 * 3600 * 1000;

export const otpCountersProjection = projection({
  name: 'otp-counters',
  version: 3,
  canHandle: ['OtpIssued', 'OtpDeliveryFailed', 'OtpLimitsReset'],
  init: (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS otp_sends (
        otp_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, channel TEXT NOT NULL, destination_hash TEXT NOT NULL,
        country TEXT, issued_at INTEGER NOT NULL, failed INTEGER NOT NULL DEFAULT 0, requester TEXT, forgiven INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX IF NOT EXISTS otp_sends_destination ON otp_sends(tenant_id, destination_hash, issued_at);
      CREATE INDEX IF NOT EXISTS otp_sends_tenant ON otp_sends(tenant_id, channel, issued_at);
      CREATE INDEX IF NOT EXISTS otp_sends_issued ON otp_sends(issued_at);
      CREATE TABLE IF NOT EXISTS otp_tenant_daily (
        tenant_id TEXT NOT NULL, channel TEXT NOT NULL, day INTEGER NOT NULL, sent INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, channel, day));`);
    // Version 3 added who asked and resets; a table of version 2 gets the columns (and is rebuilt).
    const columns = new Set((db.prepare('PRAGMA table_info(otp_sends)').all() as { name: string }[]).map((c) => c.name));
    if (!columns.has('requester')) db.exec('ALTER TABLE otp_sends ADD COLUMN requester TEXT');
    if (!columns.has('forgiven')) db.exec('ALTER TABLE otp_sends ADD COLUMN forgiven INTEGER NOT NULL DEFAULT 0');
  },
  // evolve prunes by issued_at: the per-tenant index is the queries' alone...
  queryIndexes: ['otp_sends_tenant'],
  // ...and by destination only for a reset of its limits.
  rareIndexes: [{ name: 'otp_sends_destination', neededBy: ['OtpLimitsReset'] }],
  reset: (db) => db.exec('DELETE FROM otp_sends; DELETE FROM otp_tenant_daily;'),
  evolve: (db, event) => count(db, [event]),
  evolveBatch: (db, events) => count(db, events),
});

const statementsOf = (db: DatabaseSync) => ({
  insert: prepared(db, 'INSERT OR IGNORE INTO otp_sends (otp_id, tenant_id, channel, destination_hash, country, issued_at, requester) VALUES (?, ?, ?, ?, ?, ?, ?)'),
  pruneSends: prepared(db, 'DELETE FROM otp_sends WHERE issued_at < ?'),
  pruneDaily: prepared(db, 'DELETE FROM otp_tenant_daily WHERE day < ?'),
  failed: prepared(db, 'UPDATE otp_sends SET failed = 1 WHERE otp_id = ? AND failed = 0 RETURNING tenant_id, channel, issued_at'),
  forgive: prepared(db, 'UPDATE otp_sends SET forgiven = 1 WHERE tenant_id = ? AND destination_hash = ?'),
  daily: prepared(db, 'INSERT INTO otp_tenant_daily (tenant_id, channel, day, sent) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET sent = sent + excluded.sent'),
});

type Counted = Recorded<EventOfType<'OtpIssued' | 'OtpDeliveryFailed' | 'OtpLimitsReset'>>;

/** The writes of these events in log order, with two shortcuts that change no row: a prune that
 * cannot find anything (every row left is at or after what it deletes below, since the last
 * prune of this batch and the rows written after it) is not run; and the daily counters are added
 * up in memory, written (in the order of their first change, as one statement each would) before
 * a prune runs and at the end. */
const count = (db: DatabaseSync, events: readonly Counted[]) => {
  const st = statementsOf(db);
  // Lower bounds of issued_at in otp_sends and of day in otp_tenant_daily: unknown until a prune.
  let oldestSend = -Infinity;
  let oldestDay = -Infinity;
  const daily = new Map<string, [tenantId: string, channel: string, day: number, n: number]>();
  const addDaily = (tenantId: string, channel: string, day: number, n: number) => {
    const key = `${tenantId}\n${channel}\n${day}`;
    const row = daily.get(key);
    if (row) row[3] += n;
    else daily.set(key, [tenantId, channel, day, n]);
    oldestDay = Math.min(oldestDay, day);
  };
  const writeDaily = () => {
    for (const row of daily.values()) st.daily.run(...row);
    daily.clear();
  };
  for (const event of events) {
    const where = parseOtpStream(event.streamName);
    if (!where) continue;
    if (event.type === 'OtpIssued') {
      const d = event.data;
      const inserted = st.insert.run(d.otpId, where.tenantId, where.channel, where.destinationHash, d.country, d.issuedAt, d.requester ?? null);
      // The daily quota reads one counter row instead of counting the day's sends (O(1) per send).
      if (inserted.changes === 1) {
        oldestSend = Math.min(oldestSend, d.issuedAt);
        addDaily(where.tenantId, where.channel, dayOf(d.issuedAt), 1);
      }
      const before = d.issuedAt - OTP_COUNTERS_RETENTION_MS;
      if (before > oldestSend) {
        st.pruneSends.run(before);
        oldestSend = before;
      }
      if (dayOf(before) > oldestDay) {
        writeDaily();
        st.pruneDaily.run(dayOf(before));
        oldestDay = dayOf(before);
      }
    } else if (event.type === 'OtpDeliveryFailed') {
      const row = st.failed.get(event.data.otpId) as { tenant_id: string; channel: string; issued_at: number } | undefined;
      if (row) addDaily(row.tenant_id, row.channel, dayOf(row.issued_at), -1);
    } else if (event.type === 'OtpLimitsReset') {
      // Every send before the reset in the log (not by clock: a CLI on another machine may differ).
      st.forgive.run(where.tenantId, where.destinationHash);
    }
  }
  writeDaily();
};

const DAY_MS = 24 * 3600 * 1000;
/** UTC day number of an epoch-ms time. */
const dayOf = (ms: number) => Math.floor(ms / DAY_MS);

/** The codes sent to one destination since sinceMs that count against its caps (ascending), with who asked. */
export const destinationSends = (db: DatabaseSync, tenantId: string, destinationHash: string, sinceMs: number): DestinationSend[] =>
  (prepared(db, 'SELECT issued_at, requester FROM otp_sends WHERE tenant_id = ? AND destination_hash = ? AND issued_at >= ? AND failed = 0 AND forgiven = 0 ORDER BY issued_at')
    .all(tenantId, destinationHash, sinceMs) as { issued_at: number; requester: string | null }[]).map((r) => ({ issuedAt: r.issued_at, requester: r.requester }));

/** Codes sent to one destination since sinceMs. */
export const countSends = (db: DatabaseSync, tenantId: string, destinationHash: string, sinceMs: number): number =>
  (prepared(db, 'SELECT count(*) AS n FROM otp_sends WHERE tenant_id = ? AND destination_hash = ? AND issued_at >= ? AND failed = 0')
    .get(tenantId, destinationHash, sinceMs) as { n: number }).n;

/** Codes a tenant sent on a channel since sinceMs, which must be the start of a UTC day (the daily quota). */
export const countTenantSends = (db: DatabaseSync, tenantId: string, channel: 'sms' | 'email', sinceMs: number): number => {
  if (sinceMs % DAY_MS !== 0) throw new Error('countTenantSends: sinceMs must be the start of a UTC day');
  return (prepared(db, 'SELECT coalesce(sum(sent), 0) AS n FROM otp_tenant_daily WHERE tenant_id = ? AND channel = ? AND day >= ?').get(tenantId, channel, dayOf(sinceMs)) as { n: number }).n;
};

/** The counters port of the OTP service (src/app/otp.ts) over this read model. */
export const createOtpCountersFromDb = (db: DatabaseSync) => ({
  tenantSends: (q: { tenantId: string; channel: 'sms' | 'email'; sinceMs: number }) => countTenantSends(db, q.tenantId, q.channel, q.sinceMs),
});
