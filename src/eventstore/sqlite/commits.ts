// Commits announced across the threads of one process: the writer thread of every store on a
// file posts on the file's channel after each commit, so that a reader of the same file on
// another thread (the projections' thread) wakes at once instead of at its next poll of
// `PRAGMA data_version` (notifier.ts; that poll still covers other processes). A notice carries
// the writer's id (a store ignores its own writer, whose commits it already hears of first-hand),
// the positions written and when the commit returned (commitTimes: the commit → read model delay).
import { resolve } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';

export const commitChannelOf = (path: string) => `securekey:commits:${resolve(path)}`;

export type CommitNotice = { writer: string; first: number; last: number; at: number };

const open = (path: string, onNotice: (n: CommitNotice) => void) => {
  const channel = new BroadcastChannel(commitChannelOf(path));
  channel.onmessage = (m) => onNotice((m as { data: CommitNotice }).data);
  channel.unref(); // listening alone never keeps the process alive
  return channel;
};

/** Calls onCommit for every commit to the file made by another store of this process. Returns
 * this store's writer id (for its own writer) and a close. */
export const listenForCommits = (path: string, onCommit: () => void) => {
  const writerId = randomUUID();
  const channel = open(path, (n) => {
    if (n.writer !== writerId) onCommit();
  });
  return { channel: commitChannelOf(path), writerId, close: () => channel.close() };
};

/** When the recent commits of this process to the file returned, by position: an event's
 * `recordedAt` is stamped before its commit's inserts and fsync, so a delay measured from it would
 * count the commit itself. `of` is undefined for an event whose commit this process did not
 * announce (another process's, or older than the last `keep` commits). */
export const commitTimes = (path: string, keep = 4096) => {
  let notices: CommitNotice[] = [];
  const channel = open(path, (n) => {
    notices.push(n);
    if (notices.length > 2 * keep) notices = notices.slice(-keep);
  });
  return {
    of: (position: number): number | undefined => {
      // Binary search: the first commit that ends at or after the position.
      let lo = 0;
      let hi = notices.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (notices[mid]!.last < position) lo = mid + 1;
        else hi = mid;
      }
      const n = notices[lo];
      return n && n.first <= position ? n.at : undefined;
    },
    close: () => channel.close(),
  };
};
