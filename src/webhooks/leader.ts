// One webhook deliverer among the server processes that share a data directory: a lease row in
// the shared webhooks database, taken and renewed in a write transaction. The holder runs the
// worker; when it stops renewing (crash, shutdown), another node takes over after the TTL.
import type { DatabaseSync } from 'node:sqlite';

export type Leadership = { stop: () => Promise<void>; isLeader: () => boolean };

export const tryAcquireLease = (db: DatabaseSync, o: { name: string; holder: string; ttlMs: number; now: number }): boolean => {
  db.exec('CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL)');
  db.exec('BEGIN IMMEDIATE');
  try {
    const row = db.prepare('SELECT holder, expires_at FROM leases WHERE name = ?').get(o.name) as { holder: string; expires_at: number } | undefined;
    const mine = !row || row.holder === o.holder || row.expires_at <= o.now;
    if (mine) db.prepare('INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at').run(o.name, o.holder, o.now + o.ttlMs);
    db.exec('COMMIT');
    return mine;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
};

/** The holder of an unexpired lease ('' when none). */
export const leaseHolder = (db: DatabaseSync, name: string, now: number): string => {
  try {
    const row = db.prepare('SELECT holder FROM leases WHERE name = ? AND expires_at > ?').get(name, now) as { holder: string } | undefined;
    return row?.holder ?? '';
  } catch {
    return ''; // no lease table yet
  }
};

export const releaseLease = (db: DatabaseSync, o: { name: string; holder: string }) => {
  db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?').run(o.name, o.holder);
};

/** Runs `onGain` while this process holds the lease and `onLose` when it stops holding it. */
export const runWhileLeader = (o: {
  db: DatabaseSync;
  name: string;
  holder: string;
  ttlMs: number;
  now: () => number;
  onGain: () => void;
  onLose: () => Promise<void>;
  onError: (err: unknown) => void;
}): Leadership => {
  let leader = false;
  let stopped = false;
  const tick = async () => {
    let holds = false;
    try {
      holds = tryAcquireLease(o.db, { name: o.name, holder: o.holder, ttlMs: o.ttlMs, now: o.now() });
    } catch (err) {
      o.onError(err); // e.g. the database is busy: treat as not holding it this round
    }
    if (holds && !leader) {
      leader = true;
      o.onGain();
    } else if (!holds && leader) {
      leader = false;
      await o.onLose();
    }
  };
  let running = tick();
  const timer = setInterval(() => {
    running = running.then(tick);
  }, Math.max(100, Math.floor(o.ttlMs / 3)));
  timer.unref();
  return {
    isLeader: () => leader,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await running;
      if (leader) {
        leader = false;
        await o.onLose();
        try {
          releaseLease(o.db, { name: o.name, holder: o.holder });
        } catch (err) {
          o.onError(err);
        }
      }
    },
  };
};
