// The audit trail: one row per meaningful event — who (tenant, API key or admin actor, user),
// what (action), when, channel, outcome, client IP and the masked destination. Keyed by the
// event's position, so applying an event twice changes nothing. The personal values (user id,
// client IP, masked destination) are kept as the log stores them, sealed (src/privacy): they are
// opened when read (openAuditRecord), the IP then truncated (/24, /48), and read "[erased]" once
// their key is gone. So the rows never hold personal data in clear, and a replay after an erasure
// rebuilds them byte for byte. user_key (the user's stream key) finds a user's rows.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { DomainError } from '../../src/domain/errors.ts';
import { type Recorded, tenantOf, userOf } from '../../src/eventstore/recorded.ts';
import { projection } from '../runtime.ts';
import { clampLimit, decodePageToken, encodePageToken, prepared } from '../sql.ts';
import { AUDITED_EVENT_TYPES, auditEntryOf } from './actions.ts';
import { truncateIp } from './ip.ts';
import { ERASED } from '../../src/privacy/personal-data.ts';

export type AuditRecord = {
  position: number;
  /** Epoch ms (the event's recorded time). */
  at: number;
  tenantId: string;
  keyId: string | null;
  /** "admin" or "cli" for operator actions; null for API-key calls. */
  actor: string | null;
  userId: string | null;
  /** The user's stream key (src/app/user-keys.ts); null in rows of events older than it. */
  userKey: string | null;
  action: string;
  eventType: string;
  channel: string | null;
  outcome: string;
  clientIp: string | null;
  destination: string | null;
  stream: string;
  requestId: string | null;
  /** The event's id: its sealed values open with it. */
  eventId: string;
};

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

const COLUMNS = 'position, at, tenant_id, key_id, actor, user_id, user_key, action, event_type, channel, outcome, client_ip, destination, stream, request_id, event_id';
const ROW = `(${Array(16).fill('?').join(', ')})`;
/** INSERT of n rows at once. */
const insertRows = (n: number) => `INSERT OR IGNORE INTO audit_log (${COLUMNS}) VALUES ${Array(n).fill(ROW).join(', ')}`;
const INSERT = insertRows(1);
/** Rows per INSERT in a batch: one statement step for 32 rows instead of 32 (a rebuild writes a
 * row for nearly every event of the log). */
const ROWS_PER_INSERT = 32;
const INSERT_MANY = insertRows(ROWS_PER_INSERT);

/** Appends the 16 values of one audited event's row to `values` (nothing for events outside the
 * trail or without a tenant); true when it did. */
const pushEntry = (values: SQLInputValue[], e: Recorded): boolean => {
  const entry = auditEntryOf(e.type, e.data);
  const tenantId = tenantOf(e);
  if (!entry || !tenantId) return false;
  const d: Record<string, unknown> = e.data;
  const m = e.metadata ?? {};
  // An erasure is filed under the user it erased.
  const userKey = e.type === 'UserErased' ? e.data.erasedUserKey : (str(d.userKey) ?? str(m.userKey));
  values.push(
    e.position,
    e.recordedAt.getTime(),
    tenantId,
    str(m.keyId),
    str(m.actor),
    userOf(e),
    userKey,
    entry.action,
    e.type,
    entry.channel,
    entry.outcome,
    str(m.clientIp),
    str(d.masked) ?? str(d.accountNameMasked),
    e.streamName,
    str(m.requestId),
    e.id,
  );
  return true;
};

/** The rows of these events, ROWS_PER_INSERT at a time, the rest one by one (in log order: INSERT
 * OR IGNORE takes each row of a multi-row INSERT on its own, as separate INSERTs would). */
const insertEntries = (db: DatabaseSync, events: readonly Recorded[]) => {
  const many = prepared(db, INSERT_MANY);
  const values: SQLInputValue[] = [];
  let rows = 0;
  for (const e of events) {
    if (!pushEntry(values, e) || ++rows < ROWS_PER_INSERT) continue;
    many.run(...values);
    values.length = 0;
    rows = 0;
  }
  const one = prepared(db, INSERT);
  for (let i = 0; i < values.length; i += 16) one.run(...values.slice(i, i + 16));
};

export const auditProjection = projection({
  name: 'audit',
  version: 2,
  canHandle: AUDITED_EVENT_TYPES,
  init: (db) =>
    db.exec(`
      CREATE TABLE IF NOT EXISTS audit_log (
        position INTEGER PRIMARY KEY, at INTEGER NOT NULL, tenant_id TEXT NOT NULL, key_id TEXT, actor TEXT, user_id TEXT, user_key TEXT,
        action TEXT NOT NULL, event_type TEXT NOT NULL, channel TEXT, outcome TEXT NOT NULL, client_ip TEXT, destination TEXT,
        stream TEXT NOT NULL, request_id TEXT, event_id TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS audit_tenant ON audit_log(tenant_id, position);
      DROP INDEX IF EXISTS audit_tenant_user;
      CREATE INDEX IF NOT EXISTS audit_tenant_legacy_user ON audit_log(tenant_id, user_id, position) WHERE user_id NOT LIKE 'pd1.%';
      CREATE INDEX IF NOT EXISTS audit_tenant_user_key ON audit_log(tenant_id, user_key, position);
      CREATE INDEX IF NOT EXISTS audit_tenant_at ON audit_log(tenant_id, at);`),
  // evolve only inserts by position: every index serves the queries below. A user's rows are found
  // by user_key; by user_id only in rows of events older than sealing, which hold the id in clear:
  // a sealed id (isSealed: "pd1.…", random per event) matches no search, so the index leaves
  // them out (it held every one before: a random key, about a third of the cost of inserting a row).
  // A catch-up in bulk drops only the index on a random key (user_key) and builds it at the end.
  // The others stay current: (tenant_id, position) and (tenant_id, at) take each row at their
  // tenant's end, in log order, and the partial index takes no row of a log written since sealing;
  // building each of them back meant one more scan of the whole table, the widest of every read
  // model (1M-event bench log: 4.7 s of the 6.4 s of index builds). On a log written before
  // sealing the partial index takes its rows one by one (a rebuild of such a log costs about what
  // it did); docs/performance.md has the figures.
  queryIndexes: ['audit_tenant_user_key'],
  // Version 1 had neither user_key nor event_id: a rebuild drops it.
  reset: (db) => db.exec('DROP TABLE IF EXISTS audit_log'),
  evolve: (db, e) => insertEntries(db, [e]),
  evolveBatch: insertEntries,
});

type AuditRow = {
  position: number;
  at: number;
  tenant_id: string;
  key_id: string | null;
  actor: string | null;
  user_id: string | null;
  user_key: string | null;
  action: string;
  event_type: string;
  channel: string | null;
  outcome: string;
  client_ip: string | null;
  destination: string | null;
  stream: string;
  request_id: string | null;
  event_id: string;
};

const toRecord = (r: AuditRow): AuditRecord => ({
  position: r.position,
  at: r.at,
  tenantId: r.tenant_id,
  keyId: r.key_id,
  actor: r.actor,
  userId: r.user_id,
  userKey: r.user_key,
  action: r.action,
  eventType: r.event_type,
  channel: r.channel,
  outcome: r.outcome,
  clientIp: r.client_ip,
  destination: r.destination,
  stream: r.stream,
  requestId: r.request_id,
  eventId: r.event_id,
});

/** The record as an auditor reads it: user id, client IP (truncated) and destination opened
 * ("[erased]" once their key is gone). `open` is the personal-data codec's openValue. */
export const openAuditRecord = (r: AuditRecord, open: (value: unknown, eventId: string) => unknown): AuditRecord => {
  const text = (v: string | null) => (v === null ? null : String(open(v, r.eventId)));
  const ip = text(r.clientIp);
  return { ...r, userId: text(r.userId), clientIp: ip === null || ip === ERASED ? ip : truncateIp(ip), destination: text(r.destination) };
};

export type AuditFilter = {
  /** Required for the API; the CLI export may omit it (every tenant). */
  tenantId?: string;
  /** One user's rows: their stream keys (every generation, src/app/user-keys.ts), and their id
   * for rows of events older than stream keys, which hold it in clear. */
  user?: { userId: string; userKeys: readonly string[] };
  /** sms, email, totp, webauthn, push, recovery. */
  channel?: string;
  /** e.g. success, failure, locked. */
  outcome?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
};

/** A user's rows (AuditFilter.user, of one tenant) after a position, found through the two
 * indexes of user_key and clear user_id and named by position. As one OR in the WHERE clause,
 * SQLite took the tenant's index instead (it gives the position order), and read every row of the
 * tenant: 0.9-1.7 s on a 1M-row trail for a user's 20 rows. */
const userRows = (tenantId: string, user: NonNullable<AuditFilter['user']>, after: number): [string, (string | number)[]] => [
  `position IN (SELECT position FROM audit_log INDEXED BY audit_tenant_user_key WHERE tenant_id = ? AND user_key IN (${user.userKeys.map(() => '?').join(', ')}) AND position > ?
    UNION ALL SELECT position FROM audit_log INDEXED BY audit_tenant_legacy_user WHERE tenant_id = ? AND user_id = ? AND user_id NOT LIKE 'pd1.%' AND position > ?)`,
  [tenantId, ...user.userKeys, after, tenantId, user.userId, after],
];

const where = (f: AuditFilter, after: number) => {
  if (f.user && !f.tenantId) throw new DomainError('INVALID_ARGUMENT', "a user filter needs the tenant (a user id is the tenant's)");
  type Part = [string, (string | number)[] | undefined];
  const rows: Part[] = f.user ? [userRows(f.tenantId!, f.user, after)] : [['position > ?', [after]], ['tenant_id = ?', f.tenantId ? [f.tenantId] : undefined]];
  const parts: Part[] = [
    ...rows,
    ['channel = ?', f.channel ? [f.channel] : undefined],
    ['outcome = ?', f.outcome ? [f.outcome] : undefined],
    ['at >= ?', f.from === undefined ? undefined : [f.from]],
    ['at < ?', f.to === undefined ? undefined : [f.to]],
  ];
  const used = parts.filter(([, v]) => v !== undefined) as [string, (string | number)[]][];
  return { sql: used.map(([c]) => c).join(' AND '), args: used.flatMap(([, v]) => v) };
};

/** The SQL of a page of rows after position `after`, oldest first (queryAudit, auditJsonLines):
 * exported for the query-plan test (each filter is served by an index). */
export const auditPageQuery = (f: AuditFilter, after: number, limit: number) => {
  const w = where(f, after);
  return { sql: `SELECT * FROM audit_log WHERE ${w.sql} ORDER BY position LIMIT ?`, args: [...w.args, limit] };
};

/** The SQL of auditStreamsOfUser (exported for the query-plan test). */
export const auditStreamsQuery = (tenantId: string, user: NonNullable<AuditFilter['user']>) => {
  const w = where({ tenantId, user }, 0);
  return { sql: `SELECT DISTINCT stream FROM audit_log WHERE ${w.sql}`, args: w.args };
};

/** Oldest first, paginated. */
export const queryAudit = (
  db: DatabaseSync,
  q: AuditFilter & { tenantId: string; limit?: number; pageToken?: string },
): { records: AuditRecord[]; nextPageToken: string } => {
  if (!q.tenantId) throw new DomainError('INVALID_ARGUMENT', 'tenantId is required');
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw new DomainError('INVALID_ARGUMENT', 'from: expected a time before to');
  const limit = clampLimit(q.limit, 100, 1000);
  const page = auditPageQuery(q, decodePageToken(q.pageToken) ?? 0, limit + 1);
  const rows = prepared(db, page.sql).all(...page.args);
  const records = (rows as AuditRow[]).slice(0, limit).map(toRecord);
  return { records, nextPageToken: rows.length > limit ? encodePageToken(records[records.length - 1].position) : '' };
};

/** The audit trail as JSON Lines (one record per line, no newline inside), oldest first, personal
 * values opened by `open`; for `admin audit export`. Reads in pages, so any size streams in
 * constant memory. */
export function* auditJsonLines(db: DatabaseSync, open: (value: unknown, eventId: string) => unknown, f: AuditFilter = {}, pageSize = 1000): Generator<string> {
  let after = 0;
  for (;;) {
    const page = auditPageQuery(f, after, pageSize);
    const rows = prepared(db, page.sql).all(...page.args);
    for (const r of rows as AuditRow[]) yield JSON.stringify(openAuditRecord(toRecord(r), open));
    if (rows.length < pageSize) return;
    after = (rows[rows.length - 1] as { position: number }).position;
  }
}

/** Streams a user's events touched (history, export, erasure), found as AuditFilter.user. */
export const auditStreamsOfUser = (db: DatabaseSync, tenantId: string, user: NonNullable<AuditFilter['user']>): string[] => {
  const q = auditStreamsQuery(tenantId, user);
  return (prepared(db, q.sql).all(...q.args) as { stream: string }[]).map((r) => r.stream);
};
