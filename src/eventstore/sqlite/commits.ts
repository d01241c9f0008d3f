// Commits announced across the threads of one process: the writer thread of every store on a
// file posts on the file's channel after each commit, so that a reader of the same file on
// another thread (the projections' thread) wakes at once instead of at its next poll of
// `PRAGMA data_version` (notifier.ts; that poll still covers other processes). A message carries
// the writer's id: a store ignores its own writer, whose commits it already hears of first-hand.
import { resolve } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';

export const commitChannelOf = (path: string) => `securekey:commits:${resolve(path)}`;

/** Calls onCommit for every commit to the file made by another store of this process. Returns
 * this store's writer id (for its own writer) and a close. */
export const listenForCommits = (path: string, onCommit: () => void) => {
  const writerId = randomUUID();
  const channel = new BroadcastChannel(commitChannelOf(path));
  channel.onmessage = (m) => {
    if (m.data !== writerId) onCommit();
  };
  channel.unref(); // listening alone never keeps the process alive
  return { channel: commitChannelOf(path), writerId, close: () => channel.close() };
};
