// The server's read-model runners on a thread of their own (worker.ts), and on the
// server's thread a proxy per runner with the runner's interface: it mirrors each read model's
// progress from the thread's messages, so read-your-writes waits (progress.ts) work as with a
// runner in process. Following the log and applying events then never takes the event loop that
// answers requests. The read models the server reads are the same files, read over the server's
// own connections; what a read model holds in the server's memory is kept true here: a read
// model's `changed` runs on this thread before the waits see its new checkpoint, and a relayed
// projection (one with effects in this process's memory, e.g. the erasure follower) gets its
// events from the thread and applies them here.
import type { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { StoreUnavailableError, type StoredEvent } from '../../src/eventstore/port.ts';
import { createProgress, progressQueries, type ProjectionFailure, type ProjectionStatus } from '../progress.ts';
import type { Projection, ProjectionRunner } from '../runtime.ts';

/** What the thread is started with (structured-cloned). */
export type ThreadSetup = {
  eventsPath: string;
  pollMs?: number;
  /** The keyring's root secret (the mfa-verifications read model keys user ids with it). */
  root: Uint8Array;
  retry?: { baseMs?: number; maxMs?: number };
  /** The runners' wal_autocheckpoint (pages), when the server's checkpoint thread checkpoints their files. */
  walAutocheckpoint?: number;
  runners: { id: string; dbPath: string; set: 'node' | 'shared'; relayed: { name: string; canHandle: readonly string[] }[]; delays: boolean }[];
};

export type ThreadRequest = { type: 'start'; runner: string } | { type: 'stop'; runner: string };
export type ThreadReply =
  | { type: 'started'; runner: string; status: Record<string, ProjectionStatus>; changed: string[] }
  | { type: 'start-failed'; runner: string; message: string; unavailable: boolean }
  | { type: 'progress'; runner: string; status: Record<string, ProjectionStatus>; changed: string[]; delays: number[] }
  | { type: 'error'; runner: string; name: string; err: unknown; failure?: ProjectionFailure }
  | { type: 'recovered'; runner: string; name: string }
  | { type: 'relay'; runner: string; name: string; event: StoredEvent }
  | { type: 'stopped'; runner: string };

export type ThreadRunnerSpec = {
  id: string;
  dbPath: string;
  /** The read models the thread builds: the node's own (nodeProjections) or the shared webhook outbox. */
  set: 'node' | 'shared';
  /** This thread's connection to the same file (for `changed`). */
  db: DatabaseSync;
  /** The same read models as the thread runs them (names, `changed`), plus the relayed ones. */
  projections: Projection[];
  relayed: Projection[];
  /** Report the commit → read model delay of each event (onDelays). */
  delays?: boolean;
};

export type ThreadOptions = {
  eventsPath: string;
  pollMs?: number;
  root: Uint8Array;
  retry?: { baseMs?: number; maxMs?: number };
  walAutocheckpoint?: number;
  runners: ThreadRunnerSpec[];
  headPosition: () => Promise<number>;
  onError?: (name: string, err: unknown, failure?: ProjectionFailure) => void;
  onRecovered?: (name: string) => void;
  /** Milliseconds from each event's commit to its read models' commit. */
  onDelays?: (ms: readonly number[]) => void;
  /** The thread itself failed (then it is started again after restartMs, default 1000). */
  onThreadError?: (err: unknown) => void;
  restartMs?: number;
};

/** One runner proxy per spec, by id; the thread starts with the first start(). `kill` ends the
 * thread as a crash would (tests: it is started again after restartMs). */
/** The thread's name, as `top -H` and /proc/PID/task/TID/comm show it (15 bytes at most). */
export const READ_MODELS_THREAD_NAME = 'sk-read-models';

export const startProjectionThread = <Id extends string>(o: ThreadOptions & { runners: (ThreadRunnerSpec & { id: Id })[] }): { runners: Record<Id, ProjectionRunner>; kill: () => Promise<void> } => {
  const setup: ThreadSetup = {
    eventsPath: o.eventsPath,
    pollMs: o.pollMs,
    root: o.root,
    retry: o.retry,
    walAutocheckpoint: o.walAutocheckpoint,
    runners: o.runners.map((r) => ({ id: r.id, dbPath: r.dbPath, set: r.set, relayed: r.relayed.map((p) => ({ name: p.name, canHandle: p.canHandle })), delays: r.delays ?? false })),
  };
  type Side = {
    spec: ThreadRunnerSpec;
    progress: ReturnType<typeof createProgress>;
    byName: Map<string, Projection>;
    wanted: boolean;
    starting?: { resolve: () => void; reject: (e: unknown) => void };
    stopping?: () => void;
  };
  const sides = new Map<string, Side>(
    o.runners.map((spec) => {
      const all = [...spec.projections, ...spec.relayed];
      return [spec.id, { spec, progress: createProgress(all.map((p) => p.name)), byName: new Map(all.map((p) => [p.name, p])), wanted: false }];
    }),
  );
  let worker: Worker | undefined;
  let closing = false;
  let restartTimer: NodeJS.Timeout | undefined;

  const mirror = (side: Side, status: Record<string, ProjectionStatus>, changed: readonly string[]) => {
    for (const name of changed) side.byName.get(name)?.changed?.(side.spec.db);
    const { checkpoint, failed } = side.progress;
    for (const [name, s] of Object.entries(status)) {
      checkpoint[name] = s.checkpoint;
      if (s.failure) failed.set(name, s.failure);
      else failed.delete(name);
    }
    side.progress.wake();
  };

  const onMessage = (m: ThreadReply) => {
    const side = sides.get(m.runner);
    if (!side) return;
    switch (m.type) {
      case 'started':
        mirror(side, m.status, m.changed);
        side.starting?.resolve();
        side.starting = undefined;
        return;
      case 'start-failed':
        side.starting?.reject(m.unavailable ? new StoreUnavailableError(m.message) : new Error(m.message));
        side.starting = undefined;
        return;
      case 'progress':
        mirror(side, m.status, m.changed);
        if (m.delays.length) o.onDelays?.(m.delays);
        return;
      case 'error':
        return o.onError?.(m.name, m.err, m.failure);
      case 'recovered':
        return o.onRecovered?.(m.name);
      case 'relay':
        try {
          side.byName.get(m.name)?.evolve(side.spec.db, m.event);
        } catch (err) {
          o.onError?.(m.name, err);
        }
        return;
      case 'stopped':
        side.stopping?.();
        side.stopping = undefined;
        return;
    }
  };

  const spawn = () => {
    const w = new Worker(new URL('./worker.ts', import.meta.url), { name: READ_MODELS_THREAD_NAME, workerData: setup });
    w.on('message', onMessage);
    w.on('error', (err) => o.onThreadError?.(err));
    w.on('exit', () => {
      if (worker !== w) return;
      worker = undefined;
      for (const side of sides.values()) {
        side.stopping?.();
        side.stopping = undefined;
        side.starting?.reject(new StoreUnavailableError('the projections thread stopped'));
        side.starting = undefined;
      }
      if (closing || ![...sides.values()].some((s) => s.wanted)) return;
      // It died under us: every read model reads as stopped until a new thread has caught up.
      const error = new Error('the projections thread stopped; starting it again');
      o.onThreadError?.(error);
      const now = Date.now();
      for (const side of sides.values()) {
        for (const name of side.progress.names) side.progress.failed.set(name, { position: side.progress.checkpoint[name] + 1, error, attempts: 1, since: now, retryAt: now + (o.restartMs ?? 1000) });
        side.progress.wake();
      }
      restartTimer = setTimeout(() => {
        for (const side of sides.values()) if (side.wanted) send({ type: 'start', runner: side.spec.id });
      }, o.restartMs ?? 1000);
      restartTimer.unref();
    });
    return w;
  };
  const send = (m: ThreadRequest) => (worker ??= spawn()).postMessage(m);

  const proxy = (side: Side): ProjectionRunner => {
    return {
      ...progressQueries(side.progress, o.headPosition),
      start: () =>
        new Promise<void>((resolve, reject) => {
          closing = false;
          side.wanted = true;
          side.starting = { resolve, reject };
          send({ type: 'start', runner: side.spec.id });
        }),
      stop: async () => {
        side.wanted = false;
        clearTimeout(restartTimer);
        const w = worker;
        if (!w) return;
        await new Promise<void>((resolve) => {
          side.stopping = resolve;
          w.postMessage({ type: 'stop', runner: side.spec.id } satisfies ThreadRequest);
        });
        if (![...sides.values()].some((s) => s.wanted)) {
          closing = true;
          await new Promise<void>((resolve) => (worker === w ? w.once('exit', () => resolve()) : resolve()));
        }
      },
      rebuild: () => Promise.reject(new Error('the server does not rebuild read models while running: stop it and run `securekey replay`')),
    };
  };
  return {
    runners: Object.fromEntries([...sides.values()].map((s) => [s.spec.id, proxy(s)])) as Record<Id, ProjectionRunner>, // one per spec, by its id
    kill: async () => {
      await worker?.terminate();
    },
  };
};
