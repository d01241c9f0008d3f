// The event store's writer thread (writer.ts starts it): owns the write connection, so the fsync
// of each group commit blocks this thread, never the server's event loop. Batches that arrive
// while a commit is syncing are written together by the next one.
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import { type AppendRequest, type CommitResult, createCommitter } from './commit.ts';
import type { CommitNotice } from './commits.ts';
import { openEventsDb } from './schema.ts';
import { deferCheckpoints } from '../../sqlite/checkpoints.ts';
import type { WriterReply, WriterRequest, WriterSetup } from './writer.ts';

const { path, durable, busyTimeoutMs, walAutocheckpoint, maxAppendsPerCommit, wake } = workerData as WriterSetup;
const port = parentPort!;
const db = openEventsDb(path, durable, busyTimeoutMs);
// Deferred to the server's checkpoint thread: a group commit then never runs a checkpoint's fsyncs.
if (walAutocheckpoint !== undefined) deferCheckpoints(db, walAutocheckpoint);
const commit = createCommitter(db);
// Readers of this file on other threads of the process (the projections' thread) hear of each
// commit at once, not at their next poll (commits.ts).
const commits = new BroadcastChannel(wake.channel);

let inbox: { id: number; batch: AppendRequest[] }[] = [];
let scheduled = false;

const drain = () => {
  scheduled = false;
  const take: typeof inbox = [];
  let appends = 0;
  while (inbox.length > 0 && (take.length === 0 || appends + inbox[0].batch.length <= maxAppendsPerCommit)) {
    const m = inbox.shift()!;
    take.push(m);
    appends += m.batch.length;
  }
  if (inbox.length > 0) schedule();
  if (take.length === 0) return;
  const r: CommitResult = commit(take.flatMap((m) => m.batch));
  let offset = 0;
  const reply: WriterReply =
    'failed' in r
      ? { commit: null, results: take.map((m) => ({ id: m.id, failed: r.failed })) }
      : {
          commit: { appends, events: r.events, ms: r.ms },
          results: take.map((m) => ({ id: m.id, outcomes: r.outcomes.slice(offset, (offset += m.batch.length)) })),
        };
  port.postMessage(reply);
  if (!('failed' in r) && r.events > 0) commits.postMessage({ writer: wake.writerId, first: r.first, last: r.last, at: r.committedAt } satisfies CommitNotice);
};

// setImmediate: the messages that arrived during the last commit are all in the inbox first.
const schedule = () => {
  if (scheduled) return;
  scheduled = true;
  setImmediate(drain);
};

port.on('message', (m: WriterRequest) => {
  if (m.type === 'close') {
    db.close();
    commits.close();
    port.close();
    return;
  }
  inbox.push({ id: m.id, batch: m.batch });
  schedule();
});
