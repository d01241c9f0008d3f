// Group commit: every append handed over in one call is written in ONE transaction (one fsync),
// each inside its own SAVEPOINT so a conflict refuses that append only. The expected revision is
// checked inside the write transaction (BEGIN IMMEDIATE holds the file's write lock), so it also
// holds against other processes. Runs on whichever thread owns the write connection (writer.ts);
// what it returns is plain data, so it crosses a thread boundary as it is.
import type { DatabaseSync } from 'node:sqlite';
import type { ExpectedRevision } from '../port.ts';
import { isUnavailable, toStoreError } from './errors.ts';

export type AppendRequest = { stream: string; expected: ExpectedRevision; rows: { id: string; type: string; data: string; metadata: string }[] };

/** A refused append carries what the caller's error needs (the store rebuilds the error class). */
export type AppendOutcome =
  | { ok: true; nextExpectedRevision: number; position: number }
  | { ok: false; conflict: { stream: string; expected: ExpectedRevision; actual: number } }
  | { ok: false; error: FailedWrite };

export type FailedWrite = { message: string; unavailable: boolean };

/** `first`..`last`: the positions the commit wrote (0 when none); `committedAt`: when its COMMIT
 * (and fsync) returned, the moment its events became visible and durable. */
export type CommitResult = { outcomes: AppendOutcome[]; events: number; ms: number; first: number; last: number; committedAt: number } | { failed: FailedWrite };

const conflicts = (expected: ExpectedRevision, actual: number) =>
  expected === 'no_stream' ? actual !== -1 : expected === 'stream_exists' ? actual === -1 : expected !== 'any' && expected !== actual;

export const failedWrite = (err: unknown): FailedWrite => {
  const e = toStoreError(err);
  return { message: e instanceof Error ? e.message : String(e), unavailable: isUnavailable(e) };
};

export const createCommitter = (db: DatabaseSync) => {
  const q = {
    lastRevision: db.prepare('SELECT MAX(revision) AS r FROM events WHERE stream = ?'),
    insert: db.prepare('INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    savepoint: db.prepare('SAVEPOINT append'),
    release: db.prepare('RELEASE append'),
    rollbackTo: db.prepare('ROLLBACK TO append'),
  };

  const appendOne = (p: AppendRequest, now: number): AppendOutcome => {
    const actual = (q.lastRevision.get(p.stream) as { r: number | null }).r ?? -1;
    if (conflicts(p.expected, actual)) return { ok: false, conflict: { stream: p.stream, expected: p.expected, actual } };
    let revision = actual;
    let position = 0;
    for (const e of p.rows) {
      revision++;
      position = Number(q.insert.run(p.stream, revision, e.id, e.type, e.data, e.metadata, now).lastInsertRowid);
    }
    return { ok: true, nextExpectedRevision: revision, position };
  };

  return (batch: readonly AppendRequest[]): CommitResult => {
    const started = performance.now();
    const outcomes: AppendOutcome[] = [];
    let events = 0;
    let first = 0;
    let last = 0;
    try {
      q.begin.run();
      try {
        const now = Date.now();
        for (const p of batch) {
          // An append of several events is undone alone if one of its inserts fails. One event
          // needs no savepoint: a failed statement leaves nothing behind (SQLite undoes it), and
          // a conflict is found before any insert.
          const guarded = p.rows.length > 1;
          if (guarded) q.savepoint.run();
          let o: AppendOutcome;
          try {
            o = appendOne(p, now);
          } catch (error) {
            if (isUnavailable(error)) throw error; // the whole commit fails
            o = { ok: false, error: failedWrite(error) };
          }
          if (!o.ok && guarded) q.rollbackTo.run();
          else if (o.ok && p.rows.length > 0) {
            // Positions are consecutive within the commit: it holds the file's write lock.
            events += p.rows.length;
            first ||= o.position - p.rows.length + 1;
            last = o.position;
          }
          if (guarded) q.release.run();
          outcomes.push(o);
        }
        q.commit.run();
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw err;
      }
    } catch (err) {
      return { failed: failedWrite(err) };
    }
    return { outcomes, events, ms: performance.now() - started, first, last, committedAt: Date.now() };
  };
};
