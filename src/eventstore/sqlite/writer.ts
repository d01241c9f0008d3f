// Who writes the appends. On a file, a worker thread (writer-worker.ts) with its own connection:
// the main thread hands it each turn's appends in one message and goes on serving while the
// commit syncs. Inline (the caller's own connection, synchronous) for ':memory:', which another
// thread cannot open, and on request (the benchmark compares the two).
import { once } from 'node:events';
import type { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { StoreUnavailableError } from '../port.ts';
import { type AppendOutcome, type AppendRequest, type FailedWrite, createCommitter } from './commit.ts';

export type WriterRequest = { type: 'append'; id: number; batch: AppendRequest[] } | { type: 'close' };
export type WriterReply = {
  /** What one commit wrote (null: it failed as a whole). */
  commit: { appends: number; events: number; ms: number } | null;
  results: { id: number; outcomes?: AppendOutcome[]; failed?: FailedWrite }[];
};

/** Each batch's outcomes in order, or the failure of the commit it was in. */
export type WriteResult = { outcomes: AppendOutcome[] } | { failed: FailedWrite };

export type Writer = {
  /** At most maxAppendsPerCommit appends: written in one commit (the worker may add others to it). */
  write: (batch: AppendRequest[]) => Promise<WriteResult>;
  /** After every write has settled. */
  close: () => Promise<void>;
};

type CommitInfo = { appends: number; events: number; ms: number };

/** The writer thread's name, as `top -H` and /proc/PID/task/TID/comm show it (15 bytes at most). */
export const WRITER_THREAD_NAME = 'sk-writer';

export const createInlineWriter = (db: DatabaseSync, onCommit: (info: CommitInfo) => void): Writer => {
  const commit = createCommitter(db);
  return {
    write: async (batch) => {
      const r = commit(batch);
      if ('failed' in r) return r;
      onCommit({ appends: batch.length, events: r.events, ms: r.ms });
      return { outcomes: r.outcomes };
    },
    close: async () => {},
  };
};

/** What the writer thread is started with. */
export type WriterSetup = {
  path: string;
  durable: boolean;
  busyTimeoutMs: number;
  /** Its connection's wal_autocheckpoint, when the server's checkpoint thread checkpoints the file. */
  walAutocheckpoint?: number;
  maxAppendsPerCommit: number;
  /** The channel the worker announces each commit on (commits.ts), and this writer's id there. */
  wake: { channel: string; writerId: string };
};

export const createWorkerWriter = (opts: WriterSetup & { onCommit: (info: CommitInfo) => void }): Writer => {
  let worker: Worker | undefined;
  let nextId = 1;
  const inFlight = new Map<number, (r: WriteResult) => void>();

  const failAll = (message: string) => {
    const failed = { message: `event store unavailable: ${message}`, unavailable: true };
    for (const settle of inFlight.values()) settle({ failed });
    inFlight.clear();
  };

  const start = () => {
    const w = new Worker(new URL('./writer-worker.ts', import.meta.url), {
      name: WRITER_THREAD_NAME,
      workerData: { path: opts.path, durable: opts.durable, busyTimeoutMs: opts.busyTimeoutMs, walAutocheckpoint: opts.walAutocheckpoint, maxAppendsPerCommit: opts.maxAppendsPerCommit, wake: opts.wake } satisfies WriterSetup,
    });
    w.on('message', (reply: WriterReply) => {
      if (reply.commit) opts.onCommit(reply.commit);
      for (const r of reply.results) {
        const settle = inFlight.get(r.id);
        inFlight.delete(r.id);
        settle?.(r.failed ? { failed: r.failed } : { outcomes: r.outcomes! });
      }
      if (inFlight.size === 0) w.unref(); // an idle writer does not keep the process alive
    });
    // The writer thread died (it could not open the file, or crashed): what it had in hand is
    // refused as unavailable, and the next append starts a new one.
    w.on('error', (err) => failAll(err instanceof Error ? err.message : String(err)));
    w.on('exit', () => {
      if (worker === w) worker = undefined;
      failAll('the writer thread stopped');
    });
    return w;
  };

  return {
    write: (batch) =>
      new Promise<WriteResult>((resolve) => {
        worker ??= start();
        const id = nextId++;
        inFlight.set(id, resolve);
        worker.ref();
        worker.postMessage({ type: 'append', id, batch } satisfies WriterRequest);
      }),
    close: async () => {
      const w = worker;
      if (!w) return;
      worker = undefined;
      const exited = once(w, 'exit');
      w.ref(); // until it has closed its connection and exited
      w.postMessage({ type: 'close' } satisfies WriterRequest);
      await exited;
    },
  };
};

/** The error an append is refused with. */
export const writeError = (f: FailedWrite) => (f.unavailable ? new StoreUnavailableError(f.message) : new Error(f.message));
