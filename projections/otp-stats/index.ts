// Per tenant, per UTC day (of issue), per country, per channel: codes sent, delivered, failed,
// verified, locked, and the conversion (verified / sent) — so SMS pumping (many sends to a
// country, few verifications) is visible. Outcome events carry the code's issuedAt and country,
// so each is counted on the day and country of its code. Increments are guarded by the event's
// global position, so applying an event twice changes nothing.
import type { DatabaseSync } from 'node:sqlite';
import type { EventOfType } from '../../src/domain/events.ts';
import { parseOtpStream } from '../../src/domain/otp/stream.ts';
import type { Recorded } from '../../src/eventstore/recorded.ts';
import { projection } from '../runtime.ts';
import { prepared } from '../sql.ts';

const COUNTED = ['OtpIssued', 'OtpDeliverySucceeded', 'OtpDeliveryFailed', 'OtpVerified', 'OtpLocked'] as const;
const COLUMN: Record<(typeof COUNTED)[number], string> = {
  OtpIssued: 'sent',
  OtpDeliverySucceeded: 'delivered',
  OtpDeliveryFailed: 'failed',
  OtpVerified: 'verified',
  OtpLocked: 'locked',
};

const DAY_MS = 86_400_000;
/** The last day formatted: a rebuild asks for the same few days a million times, and toISOString
 * was a tenth of this read model's time. */
let lastDay = { day: NaN, text: '' };

/** UTC day of an epoch-ms time, "YYYY-MM-DD". */
export const utcDay = (ms: number): string => {
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay.day) lastDay = { day, text: new Date(day * DAY_MS).toISOString().slice(0, 10) };
  return lastDay.text;
};

export const otpStatsProjection = projection({
  name: 'otp-stats',
  version: 1,
  canHandle: COUNTED,
  init: (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS otp_stats_daily (
        tenant_id TEXT NOT NULL, day TEXT NOT NULL, country TEXT NOT NULL, channel TEXT NOT NULL,
        sent INTEGER NOT NULL DEFAULT 0, delivered INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
        verified INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, day, country, channel));
      CREATE TABLE IF NOT EXISTS otp_stats_position (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);`);
  },
  reset: (db) => db.exec('DELETE FROM otp_stats_daily; DELETE FROM otp_stats_position;'),
  evolve: (db, event) => addUp(db, [event]),
  evolveBatch: addUp,
});

type Counted = Recorded<EventOfType<(typeof COUNTED)[number]>>;

/** Counts the events past the position guard (in memory first, each row written once), then moves the guard. */
function addUp(db: DatabaseSync, events: readonly Counted[]) {
  const seen = (prepared(db, 'SELECT position FROM otp_stats_position WHERE id = 1').get() as { position: number } | undefined)?.position ?? 0;
  const counts = new Map<string, { row: [string, string, string, string]; column: string; n: number }>();
  let last = seen;
  for (const event of events) {
    const where = parseOtpStream(event.streamName);
    if (!where || event.position <= last) continue;
    const d = event.data;
    const day = utcDay(d.issuedAt);
    const country = d.country ?? '';
    const column = COLUMN[event.type];
    const key = `${where.tenantId}\n${day}\n${country}\n${where.channel}\n${column}`;
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { row: [where.tenantId, day, country, where.channel], column, n: 1 });
    last = event.position;
  }
  for (const { row, column, n } of counts.values()) {
    prepared(db,
      `INSERT INTO otp_stats_daily (tenant_id, day, country, channel, ${column}) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, day, country, channel) DO UPDATE SET ${column} = ${column} + excluded.${column}`,
    ).run(...row, n);
  }
  if (last > seen) prepared(db, 'INSERT INTO otp_stats_position (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position').run(last);
}

export type OtpStatsRow = {
  day: string;
  /** ISO region; "" for email. */
  country: string;
  channel: 'sms' | 'email';
  sent: number;
  delivered: number;
  failed: number;
  verified: number;
  locked: number;
  /** verified / sent (0 when nothing was sent). */
  conversion: number;
};

/** A tenant's rows, newest day first; days are inclusive "YYYY-MM-DD". */
export const getOtpStats = (
  db: DatabaseSync,
  tenantId: string,
  filter: { fromDay?: string; toDay?: string; country?: string; channel?: 'sms' | 'email' } = {},
): OtpStatsRow[] => {
  const rows = prepared(db, 
    `SELECT day, country, channel, sent, delivered, failed, verified, locked FROM otp_stats_daily
     WHERE tenant_id = ? AND day >= ? AND day <= ? AND (? IS NULL OR country = ?) AND (? IS NULL OR channel = ?)
     ORDER BY day DESC, channel, country`,
  ).all(tenantId, filter.fromDay ?? '0000-00-00', filter.toDay ?? '9999-99-99', filter.country ?? null, filter.country ?? null, filter.channel ?? null, filter.channel ?? null) as Omit<OtpStatsRow, 'conversion'>[];
  return rows.map((r) => ({ ...r, conversion: r.sent > 0 ? r.verified / r.sent : 0 }));
};
