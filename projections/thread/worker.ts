// The projections' thread (index.ts starts it): the server's read-model runners, each over its own
// connection to its read-model file and one reader of the event store's file, so that following
// the log and applying events never takes the server's event loop. What the server's thread must
// know comes back as messages: each runner's progress after every commit (checkpoints, failures,
// which read models changed, the commit → read model delays), errors and recoveries, and the
// events of relayed projections (whose effects live in the server's memory: index.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { createKeyring } from '../../src/crypto/keyring.ts';
import { commitTimes } from '../../src/eventstore/sqlite/commits.ts';
import { createSqliteEventStore } from '../../src/eventstore/sqlite/index.ts';
import { StoreUnavailableError, type StoredEvent } from '../../src/eventstore/port.ts';
import { nodeProjections, sharedProjections } from '../index.ts';
import { createProjectionRunner, type Projection, type ProjectionRunner } from '../runtime.ts';
import { sharePages } from '../shared-pages.ts';
import { openReadModelDb } from '../sql.ts';
import { deferCheckpoints } from '../../src/sqlite/checkpoints.ts';
import type { ThreadReply, ThreadRequest, ThreadSetup } from './index.ts';

const setup = workerData as ThreadSetup;
const port = parentPort!;
const post = (m: ThreadReply) => port.postMessage(m);
const store = createSqliteEventStore({ path: setup.eventsPath, pollMs: setup.pollMs });
// The commit → read model delay starts when the commit returned (commits.ts).
const committed = commitTimes(setup.eventsPath);
const keyring = createKeyring(Buffer.from(setup.root));
// The runners started together read each page of their catch-up once (shared-pages.ts).
const log = sharePages(store, { readers: setup.runners.length });

type Running = { id: string; runner: ProjectionRunner; db: ReturnType<typeof openReadModelDb>; changed: Set<string> };

const open = (spec: ThreadSetup['runners'][number]): Running => {
  const db = openReadModelDb(spec.dbPath);
  // A batch's commit never runs a checkpoint: the server's checkpoint thread does (src/sqlite/checkpoints.ts).
  if (setup.walAutocheckpoint !== undefined) deferCheckpoints(db, setup.walAutocheckpoint);
  const changed = new Set<string>();
  const own = spec.set === 'node' ? nodeProjections(keyring) : sharedProjections;
  // A read model's in-memory view lives on the server's thread: its `changed` is relayed there.
  const projections: Projection[] = own.map((p) => (p.changed ? { ...p, changed: (d) => (p.changed!(d), changed.add(p.name)) } : p));
  // A relayed projection: its events go to the server's thread, which applies them in memory.
  for (const r of spec.relayed) {
    projections.push({ name: r.name, canHandle: r.canHandle, init: () => {}, evolve: (_db, event: StoredEvent) => post({ type: 'relay', runner: spec.id, name: r.name, event }) });
  }
  const runner = createProjectionRunner({
    store: log,
    db,
    projections,
    retry: setup.retry,
    onError: (name, err, failure) => post({ type: 'error', runner: spec.id, name, err, failure }),
    onRecovered: (name) => post({ type: 'recovered', runner: spec.id, name }),
    onApplied: (batch) => {
      const now = Date.now();
      post({ type: 'progress', runner: spec.id, status: runner.status(), changed: take(changed), delays: spec.delays ? batch.map((e) => now - (committed.of(e.position) ?? e.recordedAt.getTime())) : [] });
    },
  });
  return { id: spec.id, runner, db, changed };
};

const take = (s: Set<string>) => {
  const names = [...s];
  s.clear();
  return names;
};

const running = setup.runners.map(open);

const start = async (r: Running) => {
  try {
    await r.runner.start();
    post({ type: 'started', runner: r.id, status: r.runner.status(), changed: take(r.changed) });
  } catch (err) {
    post({ type: 'start-failed', runner: r.id, message: err instanceof Error ? err.message : String(err), unavailable: err instanceof StoreUnavailableError });
  }
};

const stopped = new Set<string>();
port.on('message', async (m: ThreadRequest) => {
  const r = running.find((x) => x.id === m.runner);
  if (!r) return;
  if (m.type === 'start') {
    stopped.delete(r.id);
    return start(r);
  }
  await r.runner.stop();
  stopped.add(r.id);
  post({ type: 'stopped', runner: r.id });
  if (stopped.size < running.length) return;
  // Every runner stopped: the thread ends.
  await store.close();
  committed.close();
  for (const x of running) x.db.close();
  port.close();
});
