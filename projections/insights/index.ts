// Insights: counts per tenant, time bucket, channel, country and metric (projections/insights/
// metrics.ts says what each event counts for), in hourly and daily UTC buckets, so that the
// console and scripts can chart sends, verifications and conversion per channel, SMS traffic per
// country (pumping), push fatigue and TOTP/passkey failures over any range. Only aggregates: no
// user, destination or key. Increments are guarded by the event's global position, so applying
// an event twice changes nothing.
import type { DatabaseSync } from 'node:sqlite';
import { type Recorded, tenantOf } from '../../src/eventstore/recorded.ts';
import { prepared } from '../sql.ts';
import { projection } from '../runtime.ts';
import { COUNTED_EVENT_TYPES, insightsOf } from './metrics.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** The tables, one per bucket size (ms). */
export const BUCKET_TABLES = { [HOUR_MS]: 'insights_hourly', [DAY_MS]: 'insights_daily' } as const;

const table = (name: string) => `
  CREATE TABLE IF NOT EXISTS ${name} (
    tenant_id TEXT NOT NULL, bucket INTEGER NOT NULL, channel TEXT NOT NULL, country TEXT NOT NULL, metric TEXT NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (tenant_id, bucket, channel, country, metric));
  CREATE INDEX IF NOT EXISTS ${name}_bucket ON ${name}(bucket);`;

const BUCKETS = Object.entries(BUCKET_TABLES).map(([size, table]) => [Number(size), table] as const);

export const insightsProjection = projection({
  name: 'insights',
  version: 1,
  canHandle: COUNTED_EVENT_TYPES,
  init: (db) =>
    db.exec(`${table('insights_hourly')}${table('insights_daily')}
      CREATE TABLE IF NOT EXISTS insights_position (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);`),
  queryIndexes: Object.values(BUCKET_TABLES).map((t) => `${t}_bucket`),
  reset: (db) => db.exec('DELETE FROM insights_hourly; DELETE FROM insights_daily; DELETE FROM insights_position;'),
  evolve: (db, e) => addUp(db, [e]),
  evolveBatch: (db, events) => addUp(db, events),
});

/** Counts the events past the position guard (in memory first, each row written once), then moves the guard. */
const addUp = (db: DatabaseSync, events: readonly Recorded[]) => {
  const seen = (prepared(db, 'SELECT position FROM insights_position WHERE id = 1').get() as { position: number } | undefined)?.position ?? 0;
  const counts = new Map<string, { table: string; row: [string, number, string, string, string]; n: number }>();
  let last = seen;
  for (const e of events) {
    if (e.position <= last) continue;
    const tenantId = tenantOf(e);
    if (!tenantId) continue;
    for (const c of insightsOf(e.type, e.data, e.recordedAt.getTime())) {
      for (const [size, table] of BUCKETS) {
        const row: [string, number, string, string, string] = [tenantId, Math.floor(c.at / size) * size, c.channel, c.country ?? '', c.metric];
        const key = `${table}\n${row.join('\n')}`;
        const count = counts.get(key);
        if (count) count.n++;
        else counts.set(key, { table, row, n: 1 });
      }
    }
    last = e.position;
  }
  for (const { table, row, n } of counts.values()) {
    prepared(db, `INSERT INTO ${table} (tenant_id, bucket, channel, country, metric, n) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (tenant_id, bucket, channel, country, metric) DO UPDATE SET n = n + excluded.n`).run(...row, n);
  }
  if (last > seen) prepared(db, 'INSERT INTO insights_position (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position').run(last);
};
