// The projection runtime: one subscription to the global log feeds every projection. Events are
// applied in batches, one read-model transaction per batch, and each projection's checkpoint is
// written in that same transaction, so a read model and its checkpoint never disagree: after a
// crash we resume from the checkpoint without applying an event twice. Checkpoints are re-read
// inside each (BEGIN IMMEDIATE) transaction, so two processes sharing a read-model file do not
// double-apply either. A projection that throws stops advancing at that event (reported through
// onError) while the others keep going; it tries that event again after a delay that doubles per
// failed try, and rejoins once it goes through. It never skips the event.
import type { DatabaseSync } from 'node:sqlite';
import type { DomainEventType, EventOfType } from '../src/domain/events.ts';
import type { EventStore, StoredEvent } from '../src/eventstore/port.ts';
import { type Recorded, toRecorded } from '../src/eventstore/recorded.ts';
import { StoreUnavailableError } from '../src/eventstore/port.ts';
import { isSqliteUnavailable } from '../src/sqlite/errors.ts';
import { immediate, prepared } from './sql.ts';
import { type BulkCatchUp, startBulkCatchUp } from './bulk.ts';
import { createProgress, progressQueries, type ProjectionFailure, type ProjectionHealth, type ProjectionStatus } from './progress.ts';

/** What the runner runs: event types and an evolve over the log's records. Read models are
 * written as typed projections (below); the runner itself knows no event catalogue. */
export type Projection = {
  name: string;
  /** Bump to force a rebuild (reset + replay) on the next start. Default 1. */
  version?: number;
  /** Event types handled. Other events only advance the checkpoint. */
  canHandle: readonly string[];
  /** CREATE TABLE IF NOT EXISTS ... for its read model. */
  init: (db: DatabaseSync) => void;
  /** Synchronous writes for one event. Runs inside the runner's transaction. */
  evolve: (db: DatabaseSync, event: StoredEvent) => void;
  /** Optional: the writes of evolve over each of these events in order (all of its canHandle),
   * done at once — statements looked up once, counts added up in memory. It must leave the read
   * model exactly as evolve one event at a time would. When it throws, the runner takes the batch
   * again event by event through evolve, to stop at the event that fails. */
  evolveBatch?: (db: DatabaseSync, events: readonly StoredEvent[]) => void;
  /** Names of indexes (created by init) that only queries use, never evolve: a catch-up in bulk
   * (bulk.ts: a replay, a start far behind the log) drops them first and builds them once at the
   * end, which costs far less than keeping them current row by row. */
  queryIndexes?: readonly string[];
  /** Indexes (created by init) that evolve needs only for a few rare event types (an erasure, a
   * reset): a catch-up in bulk drops them too, and builds each back before the first batch that
   * holds one of its events (at the latest at the end). Kept current row by row, an index on
   * random keys (a user's or destination's hash) costs more than the rest of the row. */
  rareIndexes?: readonly { name: string; neededBy: readonly string[] }[];
  /** Drops or clears its tables for a rebuild (init runs again afterwards). Default: nothing. */
  reset?: (db: DatabaseSync) => void;
  /** After a commit that took the read model past events of its canHandle (applied here, or by
   * another process sharing the file): drop what is held in memory from it. */
  changed?: (db: DatabaseSync) => void;
};

/** A read model over the event catalogue (Emmett-style): evolve gets the events of its canHandle, typed. */
export type TypedProjection<T extends DomainEventType> = Omit<Projection, 'canHandle' | 'evolve' | 'evolveBatch'> & {
  canHandle: readonly T[];
  evolve: (db: DatabaseSync, event: Recorded<EventOfType<T>>) => void;
  evolveBatch?: (db: DatabaseSync, events: readonly Recorded<EventOfType<T>>[]) => void;
};

/** The projection the runner runs: records outside the catalogue or canHandle never reach evolve. */
export const projection = <T extends DomainEventType>(p: TypedProjection<T>): Projection => {
  // A set, not canHandle.includes: the audit trail handles some fifty types, and a rebuild asks
  // for every event of the log.
  const handled = new Set<string>(p.canHandle);
  const isHandled = (e: Recorded): e is Recorded<EventOfType<T>> => handled.has(e.type);
  const typed = (stored: StoredEvent) => {
    const e = toRecorded(stored);
    return e && isHandled(e) ? e : undefined;
  };
  const { evolveBatch } = p;
  return {
    ...p,
    evolve: (db, stored) => {
      const e = typed(stored);
      if (e) p.evolve(db, e);
    },
    evolveBatch:
      evolveBatch &&
      ((db, stored) => {
        const events: Recorded<EventOfType<T>>[] = [];
        for (const s of stored) {
          const e = typed(s);
          if (e) events.push(e);
        }
        evolveBatch(db, events);
      }),
  };
};

export { type ProjectionFailure, type ProjectionHealth, type ProjectionStatus, ProjectionStoppedError, ProjectionTimeoutError } from './progress.ts';

export type ProjectionRunnerOptions = {
  store: EventStore;
  db: DatabaseSync;
  projections: Projection[];
  /** Events per read-model transaction. Default 500. */
  batchSize?: number;
  /** A projection that threw (name, and when it tries again), or '*' for a failure of the runner
   * itself (then it retries the batch). */
  onError?: (name: string, err: unknown, failure?: ProjectionFailure) => void;
  /** A stopped projection got past the event it had failed on. */
  onRecovered?: (name: string) => void;
  /** After each batch's commit, with its events (metrics: commit → read model delay). */
  onApplied?: (batch: readonly StoredEvent[]) => void;
  /** Delay before a stopped projection tries its event again: baseMs, doubling per failed try,
   * up to maxMs. Default 1 s to 60 s. */
  retry?: { baseMs?: number; maxMs?: number };
  /** The catch-up of start() for read models far behind the log: in bulk (bulk.ts), in
   * transactions of batchSize events (default 2000), until it reaches the head; start() resolves
   * once their indexes are built back. Far behind: at least minEvents (default 10,000) to apply,
   * and at least a quarter of what it has applied already (so that building its indexes again
   * over the whole table costs less than keeping them current). false: never. */
  bulk?: { minEvents?: number; batchSize?: number } | false;
};

export type ProjectionRunner = {
  /** Catches up to the head of the log as of the call, then keeps following live. */
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /** Read-your-writes: resolves once every projection (or the named ones) has processed the
   * position. Rejects on timeout (default 5000 ms) or when one of them has stopped at an error
   * before reaching it. */
  waitFor: (position: number, timeoutMs?: number, names?: readonly string[]) => Promise<void>;
  checkpoints: () => Record<string, number>;
  /** Checkpoint and, for a projection stopped at an error, the failure. */
  status: () => Record<string, ProjectionStatus>;
  /** Lag (head position minus checkpoint) and failure of each projection. */
  health: () => Promise<Record<string, ProjectionHealth>>;
  /** The names of the projections this runner runs. */
  names: () => string[];
  /** Head position minus checkpoint, per projection. */
  lag: () => Promise<Record<string, number>>;
  caughtUp: () => Promise<boolean>;
  /** Resets the named projections (default all), sets their checkpoints to 0 and replays the log. */
  rebuild: (names?: string[]) => Promise<void>;
};

const CHECKPOINTS = `CREATE TABLE IF NOT EXISTS projection_checkpoints (
  name TEXT PRIMARY KEY, position INTEGER NOT NULL, version INTEGER NOT NULL)`;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
const nextMacrotask = () => new Promise<void>((r) => setImmediate(r));

export const createProjectionRunner = (opts: ProjectionRunnerOptions): ProjectionRunner => {
  const { store, db, projections } = opts;
  const batchSize = opts.batchSize ?? 500;
  const bulkMinEvents = opts.bulk === false ? Infinity : (opts.bulk?.minEvents ?? 10_000);
  const bulkBatchSize = (opts.bulk || undefined)?.batchSize ?? 2000;
  const report = (name: string, err: unknown, failure?: ProjectionFailure) => {
    try {
      opts.onError?.(name, err, failure);
    } catch {
      // a broken reporter must not stop the runner
    }
  };
  const retryBase = opts.retry?.baseMs ?? 1000;
  const retryMax = opts.retry?.maxMs ?? 60_000;
  const names = new Set(projections.map((p) => p.name));
  if (names.size !== projections.length) throw new Error('projection names must be unique');
  const handles = new Map(projections.map((p) => [p.name, new Set(p.canHandle)]));

  const progress = createProgress([...names]);
  const { checkpoint, failed } = progress;
  /** Stopped projections that take part again since the last restart (their retry was due). */
  const retrying = new Set<string>();
  let loop: { ac: AbortController; done: Promise<void> } | undefined;
  // Restarting the subscription (from the lowest checkpoint) is how a stopped projection rejoins.
  let restartSubscription = () => {};
  const retryTimers = new Set<NodeJS.Timeout>();
  const scheduleRetry = (delayMs: number) => {
    const t = setTimeout(() => {
      retryTimers.delete(t);
      restartSubscription();
    }, delayMs);
    t.unref();
    retryTimers.add(t);
  };

  const tx = <T>(fn: () => T): T => immediate(db, fn);
  db.exec(CHECKPOINTS);
  const readCheckpoints = () => {
    const rows = prepared(db, 'SELECT name, position, version FROM projection_checkpoints').all() as { name: string; position: number; version: number }[];
    return new Map(rows.map((r) => [r.name, r]));
  };
  const upsert = db.prepare(
    `INSERT INTO projection_checkpoints (name, position, version) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET position = excluded.position, version = excluded.version`,
  );
  const [savepoint, release, rollbackTo] = ['SAVEPOINT projection_event', 'RELEASE projection_event', 'ROLLBACK TO projection_event'].map((sql) => db.prepare(sql));

  const resetProjection = (p: Projection) => {
    p.reset?.(db);
    p.init(db);
    p.changed?.(db);
    upsert.run(p.name, 0, p.version ?? 1);
    checkpoint[p.name] = 0;
    failed.delete(p.name);
    retrying.delete(p.name);
  };

  // Creates tables, loads checkpoints, rebuilds projections whose version changed.
  const prepare = () =>
    tx(() => {
      const stored = readCheckpoints();
      for (const p of projections) {
        p.init(db);
        const row = stored.get(p.name);
        if (!row || row.version !== (p.version ?? 1)) resetProjection(p);
        else checkpoint[p.name] = row.position;
      }
    });

  /** The read-model file itself (or the store) failing, not a projection: the batch is retried. */
  const unavailable = (error: unknown) => isSqliteUnavailable(error) || error instanceof StoreUnavailableError;

  // Applies one batch (events in position order) in one transaction.
  const apply = (batch: StoredEvent[]) => {
    const recovered: string[] = [];
    const advanced = tx(() => {
      const stored = readCheckpoints(); // another process may have advanced them
      const next: Record<string, number> = {};
      for (const p of projections) {
        const stopped = failed.get(p.name);
        if (stopped && !retrying.has(p.name)) continue;
        const from = Math.max(checkpoint[p.name], stored.get(p.name)?.position ?? 0);
        const types = handles.get(p.name)!;
        bulk?.before(p, batch.filter((e) => e.position > from));
        // The whole batch under one savepoint; only when an event throws is the batch taken again
        // event by event (a savepoint each), to stop this projection exactly at that event.
        let cp = from;
        savepoint.run();
        try {
          if (p.evolveBatch) {
            const mine = batch.filter((e) => e.position > from && types.has(e.type));
            if (mine.length > 0) p.evolveBatch(db, mine);
            cp = Math.max(from, batch[batch.length - 1].position);
          } else {
            for (const e of batch) {
              if (e.position <= cp) continue;
              if (types.has(e.type)) p.evolve(db, e);
              cp = e.position;
            }
          }
          release.run();
        } catch (error) {
          if (unavailable(error)) throw error; // the read-model file itself: retry the batch
          rollbackTo.run();
          release.run();
          cp = from;
          for (const e of batch) {
            if (e.position <= cp) continue;
            if (types.has(e.type)) {
              savepoint.run();
              try {
                p.evolve(db, e);
                release.run();
              } catch (error) {
                if (unavailable(error)) throw error;
                rollbackTo.run();
                release.run();
                const now = Date.now();
                const attempts = stopped?.position === e.position ? stopped.attempts + 1 : 1;
                const delay = Math.min(retryMax, retryBase * 2 ** (attempts - 1));
                const failure = { position: e.position, error, attempts, since: stopped?.position === e.position ? stopped.since : now, retryAt: now + delay };
                failed.set(p.name, failure);
                retrying.delete(p.name);
                scheduleRetry(delay);
                report(p.name, error, failure);
                break;
              }
            }
            cp = e.position;
          }
        }
        const after = failed.get(p.name);
        if (after && retrying.has(p.name) && cp >= after.position) {
          failed.delete(p.name);
          retrying.delete(p.name);
          recovered.push(p.name);
        }
        upsert.run(p.name, cp, p.version ?? 1);
        next[p.name] = cp;
      }
      return next;
    });
    // Only after the commit: the in-memory view must never run ahead of the database.
    for (const p of projections) {
      if (!p.changed || advanced[p.name] === undefined) continue;
      const from = checkpoint[p.name];
      const types = handles.get(p.name)!;
      if (batch.some((e) => e.position > from && e.position <= advanced[p.name] && types.has(e.type))) p.changed(db);
    }
    Object.assign(checkpoint, advanced);
    for (const name of recovered) opts.onRecovered?.(name);
    progress.wake();
    try {
      opts.onApplied?.(batch);
    } catch {
      // a metrics hook must not stop the runner
    }
  };

  /** The checkpoint to subscribe from: the lowest of the projections that take part, which now
   * include the stopped ones whose retry is due. */
  const lowestActiveCheckpoint = () => {
    const now = Date.now();
    for (const [name, f] of failed) {
      if (f.retryAt <= now) retrying.add(name);
      // A timer may fire a millisecond before Date.now() reaches retryAt: without another timer
      // that projection would wait for an unrelated restart.
      else if (!retrying.has(name)) scheduleRetry(f.retryAt - now);
    }
    const active = projections.filter((p) => !failed.has(p.name) || retrying.has(p.name)).map((p) => checkpoint[p.name]);
    return active.length ? Math.min(...active) : undefined;
  };

  /** The catch-up in bulk under way (start() began it), until the head of the log. */
  let bulk: BulkCatchUp | undefined;
  let bulkEnded = () => {};
  const endBulk = (build: boolean) => {
    if (build && bulk) tx(bulk.finish);
    bulk = undefined;
    bulkEnded();
  };
  /** Starts a catch-up in bulk when some read model is far behind the head; resolves when it ends. */
  const beginBulk = (head: number): Promise<void> => {
    const behind = projections.filter((p) => {
      const gap = head - checkpoint[p.name];
      return gap >= bulkMinEvents && gap >= checkpoint[p.name] / 4;
    });
    if (behind.length === 0) return Promise.resolve();
    bulk = tx(() => startBulkCatchUp(db, behind));
    return new Promise((resolve) => (bulkEnded = resolve));
  };

  // One subscription for all projections; restarts from the checkpoints after an error.
  const run = async (signal: AbortSignal) => {
    let backoff = 100;
    while (!signal.aborted) {
      const restart = new AbortController();
      restartSubscription = () => restart.abort();
      const from = lowestActiveCheckpoint();
      if (from === undefined) {
        // Every projection is stopped at an error: nothing to catch up in bulk (its indexes are
        // built back), wait for the first retry.
        if (bulk) {
          try {
            endBulk(true);
          } catch (err) {
            report('*', err);
            await sleep(backoff, signal);
            continue;
          }
        }
        await new Promise<void>((resolve) => {
          restart.signal.addEventListener('abort', () => resolve(), { once: true });
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        continue;
      }
      const subscription = AbortSignal.any([signal, restart.signal]);
      const batch: StoredEvent[] = [];
      const flush = async () => {
        while (batch.length > 0) {
          try {
            apply(batch);
            batch.length = 0;
            backoff = 100;
          } catch (err) {
            report('*', err);
            if (signal.aborted) return;
            await sleep(backoff, signal);
            backoff = Math.min(backoff * 2, 5000);
          }
        }
      };
      try {
        // Catch-up: the log read a page at a time, each page applied in one transaction, until
        // the head; then the live subscription from there.
        // In bulk (larger pages), the indexes are built back once at the head.
        let position = from;
        while (!subscription.aborted) {
          const size = bulk ? bulkBatchSize : batchSize;
          const page = await store.readAll({ fromPosition: position, maxCount: size });
          for (const e of page) batch.push(e);
          await flush();
          if (page.length > 0) position = page[page.length - 1].position;
          if (page.length < size) break;
          await nextMacrotask(); // keep the process responsive during a long catch-up
        }
        if (subscription.aborted) {
          if (signal.aborted) return;
          continue;
        }
        if (bulk) endBulk(true);
        const it = store.subscribeToAll({ fromPosition: position, signal: subscription })[Symbol.asyncIterator]();
        const pull = () => {
          const p = it.next();
          p.catch(() => {}); // handled below; never an unhandled rejection after a stop
          return p;
        };
        let next = pull();
        let idle: Promise<'idle'> | undefined;
        for (;;) {
          // Flush what we have when the subscription has nothing more right now.
          idle ??= batch.length > 0 ? nextMacrotask().then(() => 'idle' as const) : undefined;
          const r = idle ? await Promise.race([next, idle]) : await next;
          if (r === 'idle') {
            idle = undefined;
            await flush();
            if (subscription.aborted) break;
            continue;
          }
          if (r.done) break;
          batch.push(r.value);
          next = pull();
          if (batch.length >= batchSize) {
            await flush();
            if (subscription.aborted) break;
            idle = undefined;
            await nextMacrotask(); // keep the process responsive during a long catch-up
          }
        }
        await flush();
      } catch (err) {
        if (signal.aborted) return;
        if (restart.signal.aborted) {
          await flush();
          continue;
        }
        report('*', err);
        await flush();
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  };

  const startLoop = () => {
    const ac = new AbortController();
    loop = { ac, done: run(ac.signal) };
  };
  const stopLoop = async () => {
    for (const t of retryTimers) clearTimeout(t);
    retryTimers.clear();
    if (!loop) return;
    const l = loop;
    loop = undefined;
    l.ac.abort();
    await l.done;
    // Stopped in the middle of a catch-up in bulk: its indexes stay dropped until the next start,
    // whose init creates them again (building them here would only delay the stop).
    endBulk(false);
  };

  const { reach } = progress;

  const start = async () => {
    if (loop) return;
    failed.clear(); // a (re)start gives a stopped projection another try from its checkpoint
    retrying.clear();
    prepare();
    let head: number;
    try {
      head = await store.headPosition();
    } catch (err) {
      startLoop(); // it keeps trying (the store may come back)
      throw err;
    }
    let bulkDone = Promise.resolve();
    try {
      bulkDone = beginBulk(head);
    } catch (err) {
      report('*', err); // then a catch-up as usual
    }
    startLoop();
    await reach(head, [...names], Infinity, true);
    await bulkDone;
  };

  return {
    ...progressQueries(progress, () => store.headPosition()),
    start,
    stop: stopLoop,
    rebuild: async (only) => {
      const chosen = projections.filter((p) => !only || only.includes(p.name));
      const wasRunning = loop !== undefined;
      await stopLoop();
      tx(() => chosen.forEach(resetProjection));
      await start();
      if (!wasRunning) await stopLoop();
    },
  };
};
