// Checkpoints of the server's SQLite files (WAL mode) off the commit path. By default SQLite
// checkpoints inside the COMMIT that takes the WAL past 1000 pages (wal_autocheckpoint), on the
// committing connection, with its fsyncs: that commit (a group commit of appends on the writer
// thread, a batch of read models on theirs) and everything queued behind it wait for them. The
// server's writing connections raise that threshold to a backstop (DEFERRED_AUTOCHECKPOINT_PAGES)
// and a thread of its own (checkpoint-worker.ts), over its own connection to each file, runs a
// PASSIVE checkpoint (it neither waits for nor blocks readers and writers) about every `pages`
// frames of WAL (SQLite's threshold), and a TRUNCATE (the WAL file back to 0 bytes) once a file
// has had no commit for `idleMs` (skipped at once when a writer is busy).
// What a checkpoint copies is already durable in the WAL: crash safety does not depend on it.
import { once } from 'node:events';
import type { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';

/** The thread's name, as `top -H` and /proc/PID/task/TID/comm show it (15 bytes at most). */
export const CHECKPOINT_THREAD_NAME = 'sk-checkpoint';

/** wal_autocheckpoint of a connection whose checkpoints the thread runs: SQLite takes over again
 * only when the WAL has grown this far (~40 MB at 4 KiB pages), e.g. when the thread cannot keep
 * up or stopped, so the WAL stays bounded whatever happens to the thread. */
export const DEFERRED_AUTOCHECKPOINT_PAGES = 10_000;

/** Hands this connection's checkpoints to the checkpoint thread (SQLite's own only past `pages`). */
export const deferCheckpoints = (db: DatabaseSync, pages = DEFERRED_AUTOCHECKPOINT_PAGES) => {
  db.exec(`PRAGMA wal_autocheckpoint = ${Math.trunc(pages)}`);
};

export type CheckpointFile = {
  path: string;
  /** The file's own synchronous setting: a checkpoint syncs the WAL before and the database after. */
  synchronous: 'FULL' | 'NORMAL';
};

export type CheckpointerOptions = {
  files: CheckpointFile[];
  /** A PASSIVE checkpoint about every this many frames (pages) of WAL, timed from the rate the
   * last checkpoints saw. Default 1000, SQLite's wal_autocheckpoint. */
  pages?: number;
  /** How often the thread looks for commits (PRAGMA data_version), and the shortest time between
   * two checkpoints of a file. Default 50 ms. */
  everyMs?: number;
  /** The longest time between two checkpoints of a file that has commits. Default 10 s. */
  maxMs?: number;
  /** A file without a commit for this long gets its WAL truncated. Default 2000 ms. */
  idleMs?: number;
  /** A file's checkpoints fail (said once until one goes through; they are tried at every tick),
   * or, with no path, the thread itself stopped (SQLite checkpoints past the backstop then). */
  onError?: (path: string | undefined, message: string) => void;
  /** Every checkpoint the thread ran (tests, diagnostics). */
  onCheckpoint?: (c: Checkpointed) => void;
};

export type Checkpointed = { path: string; mode: 'PASSIVE' | 'TRUNCATE'; frames: number; ms: number };
export type CheckpointReport = ({ type: 'checkpointed' } & Checkpointed) | { type: 'error'; path: string; message: string };

/** What the thread is started with. */
export type CheckpointSetup = { files: CheckpointFile[]; pages: number; everyMs: number; maxMs: number; idleMs: number; report: boolean };

export type Checkpointer = {
  /** Resolves once the thread has closed its connections and exited. */
  close: () => Promise<void>;
};

export const startCheckpointer = (o: CheckpointerOptions): Checkpointer => {
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), {
    name: CHECKPOINT_THREAD_NAME,
    workerData: { files: o.files, pages: o.pages ?? 1000, everyMs: o.everyMs ?? 50, maxMs: o.maxMs ?? 10_000, idleMs: o.idleMs ?? 2000, report: o.onCheckpoint !== undefined } satisfies CheckpointSetup,
  });
  worker.unref(); // it never keeps the process alive
  worker.on('message', (r: CheckpointReport) => {
    if (r.type === 'error') o.onError?.(r.path, r.message);
    else o.onCheckpoint?.(r);
  });
  worker.on('error', (err) => o.onError?.(undefined, err instanceof Error ? err.message : String(err)));
  const exited = once(worker, 'exit');
  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        worker.ref(); // until it has closed its connections and exited
        worker.postMessage('close');
        await exited;
      })()),
  };
};
