// Wakes live subscribers. Appends made through this connection call notify() right after their
// commit. Appends committed by other processes (or other connections) on the same file are
// noticed by polling `PRAGMA data_version`, which changes when another connection commits; the
// timer runs only while a subscription is open and costs one tiny query per tick.
import type { DatabaseSync } from 'node:sqlite';

export type Notifier = {
  /** Bumped on every commit we learn about; capture it before reading to avoid lost wake-ups. */
  seq: () => number;
  notify: () => void;
  /** Resolves on the next notify() or when the signal aborts. */
  wait: (signal?: AbortSignal) => Promise<void>;
  /** Counts open subscriptions: the poller runs while there is at least one. */
  open: () => () => void;
  /** Stops the poller and releases every waiter. */
  close: () => void;
};

/** `beforeRead`: called before each poll (it ends the connection's read snapshot, snapshot.ts). */
export const createNotifier = (db: DatabaseSync, pollMs: number, beforeRead: () => void = () => {}): Notifier => {
  let seq = 0;
  let waiters = new Set<() => void>();
  let openCount = 0;
  let timer: NodeJS.Timeout | undefined;
  let lastVersion = 0;
  const dataVersion = db.prepare('PRAGMA data_version');
  const readVersion = () => {
    beforeRead();
    return Number((dataVersion.get() as { data_version: number }).data_version);
  };

  const notify = () => {
    seq++;
    const ws = waiters;
    waiters = new Set();
    for (const w of ws) w();
  };

  const poll = () => {
    let v: number;
    try {
      v = readVersion();
    } catch {
      notify(); // let the subscribers read and surface the error themselves
      return;
    }
    if (v !== lastVersion) {
      lastVersion = v;
      notify();
    }
  };

  return {
    seq: () => seq,
    notify,
    wait: (signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const done = () => {
          waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      }),
    open: () => {
      if (openCount++ === 0) {
        // Baseline before the subscriber's first read: a commit after this point wakes it.
        lastVersion = readVersion();
        timer = setInterval(poll, pollMs);
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (--openCount === 0) clearInterval(timer);
      };
    },
    close: () => {
      clearInterval(timer);
      openCount = 0;
      notify();
    },
  };
};
