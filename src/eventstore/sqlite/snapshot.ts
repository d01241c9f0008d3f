// The server's reads of the log share one read transaction per turn of the event loop.
//
// Why: the writer commits on its own thread and connection, and every commit makes this
// connection drop its whole page cache at its next read transaction (WAL mode). Read in autocommit,
// each command's stream read ran in a transaction of its own: it paid for taking and releasing the
// read lock, and, after any commit in between, re-read every page from the file. Under load a
// commit lands between almost any two reads, so nearly every read was cold. Reads of one turn (the
// requests that arrived together) now see one snapshot and share what the first of them read.
//
// Never stale for what this process knows: the snapshot ends before an append's outcome is
// delivered (read-your-writes) and before a live subscriber is woken by a commit (so it reads
// past it); otherwise it ends when the turn ends (setImmediate). Within a turn it may miss another
// thread's or process's commit, exactly as a read made a moment earlier would: a command decided on
// such a state fails its expected revision and is retried on a fresh read.
import type { DatabaseSync } from 'node:sqlite';

export type ReadSnapshot = {
  /** Runs a read inside the turn's read transaction, beginning it if none is open. */
  read: <T>(fn: () => T) => T;
  /** Ends the open read transaction, if any: the next read sees every commit made until now. */
  end: () => void;
};

/** `enabled` false: every read in its own transaction (a connection that also writes). */
export const createReadSnapshot = (db: DatabaseSync, enabled: boolean): ReadSnapshot => {
  let open = false;
  const end = () => {
    if (!open) return;
    open = false;
    // A read that failed may have ended the transaction itself.
    if (db.isOpen && db.isTransaction) db.exec('COMMIT');
  };
  return {
    read: (fn) => {
      if (enabled && !open) {
        db.exec('BEGIN');
        open = true;
        setImmediate(() => {
          try {
            end();
          } catch {
            // the connection is closing or broken: the next read reports it
          }
        });
      }
      return fn();
    },
    end,
  };
};
