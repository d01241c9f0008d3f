// The checkpoint thread (checkpoints.ts starts it), one connection per file. A file that had
// commits since its last checkpoint (PRAGMA data_version) gets a PASSIVE checkpoint when one is
// due: each checkpoint says how many frames the WAL holds, so the next one is timed for about
// `pages` new frames at the rate seen since the last one (between everyMs and maxMs). Checkpointing
// by size, not at every tick, keeps WAL restarts as rare as SQLite's own checkpoints made them:
// the first commit after a restart syncs the new WAL header (at synchronous=NORMAL too), the one
// sync left on the commit path. A file without commits for idleMs gets a TRUNCATE (the WAL file
// back to 0 bytes). The connections never wait for a lock (busy_timeout 0): a checkpoint that
// finds the file busy is tried again at a later tick.
// Never open a database's -wal or -shm file here: closing any descriptor of a file drops every
// POSIX lock this process holds on it, SQLite's included, and another process could then take
// the WAL index for its own (SQLite's "fcntl locks" pitfall).
import { existsSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import type { CheckpointFile, CheckpointReport, CheckpointSetup } from './checkpoints.ts';

const { files, pages, everyMs, maxMs, idleMs, report } = workerData as CheckpointSetup;
const port = parentPort!;
const post = (r: CheckpointReport) => port.postMessage(r);

type Open = { db: DatabaseSync; version: StatementSync; passive: StatementSync; truncate: StatementSync };
type State = CheckpointFile & {
  open?: Open;
  version?: number;
  /** When data_version last changed, and whether it has since the last checkpoint / truncation. */
  changedAt: number;
  unchecked: boolean;
  untruncated: boolean;
  /** The last PASSIVE checkpoint: when, and the WAL's frames then. */
  last: { at: number; frames: number };
  due: number;
  failing: boolean;
};

const started = Date.now();
const states: State[] = files.map((f) => ({ ...f, changedAt: 0, unchecked: false, untruncated: false, last: { at: started, frames: 0 }, due: 0, failing: false }));

const open = (s: State): Open | undefined => {
  if (s.open) return s.open;
  if (!existsSync(s.path)) return undefined; // its owner creates it (in WAL mode); never us
  const db = new DatabaseSync(s.path);
  db.exec(`PRAGMA busy_timeout = 0; PRAGMA synchronous = ${s.synchronous}; PRAGMA cache_size = 16`);
  return (s.open = {
    db,
    version: db.prepare('PRAGMA data_version'),
    passive: db.prepare('PRAGMA wal_checkpoint(PASSIVE)'),
    truncate: db.prepare('PRAGMA wal_checkpoint(TRUNCATE)'),
  });
};

type Result = { busy: number; log: number; checkpointed: number };

const checkpoint = (s: State, o: Open, mode: 'PASSIVE' | 'TRUNCATE'): Result => {
  const t = performance.now();
  const r = (mode === 'PASSIVE' ? o.passive : o.truncate).get() as Result;
  if (report) post({ type: 'checkpointed', path: s.path, mode, frames: r.checkpointed, ms: performance.now() - t });
  return r;
};

const tick = () => {
  const now = Date.now();
  for (const s of states) {
    try {
      const o = open(s);
      if (!o) continue;
      const v = Number((o.version.get() as { data_version: number }).data_version);
      if (v !== s.version) {
        s.version = v;
        s.changedAt = now;
        s.unchecked = s.untruncated = true;
      }
      if (s.unchecked && now >= s.due) {
        const r = checkpoint(s, o, 'PASSIVE');
        // Frames written since the last checkpoint: the WAL grew by them, or restarted and holds only them.
        const added = Math.max(1, r.log >= s.last.frames ? r.log - s.last.frames : r.log);
        s.due = now + Math.min(maxMs, Math.max(everyMs, ((now - s.last.at) * pages) / added));
        s.last = { at: now, frames: r.log };
        s.unchecked = false;
      } else if (s.untruncated && now - s.changedAt >= idleMs && checkpoint(s, o, 'TRUNCATE').busy === 0) {
        s.untruncated = false;
        s.last = { at: now, frames: 0 };
      }
      s.failing = false;
    } catch (err) {
      // Said once until a tick goes through again, not at every tick.
      if (!s.failing) post({ type: 'error', path: s.path, message: err instanceof Error ? err.message : String(err) });
      s.failing = true;
    }
  }
};

const timer = setInterval(tick, everyMs);

port.on('message', (m: 'close') => {
  if (m !== 'close') return;
  clearInterval(timer);
  for (const s of states) s.open?.db.close();
  port.close();
});
