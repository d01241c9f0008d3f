// Snapshots of long streams (src/stream-snapshots): a cold load starts from a snapshot and reads
// only the events after it; a snapshot that does not match the log, or that its keys no longer
// open, is ignored (the log is folded); an erasure deletes and shreds the user's snapshots; nothing
// personal or secret is in clear in the file. Real SQLite files, real keys; a "process" is a store
// object of its own (its own aggregate cache), so each load through a new one is cold.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { createEventLog } from '../src/app/event-log.ts';
import { createErasureFollower } from '../src/app/erasure-follower.ts';
import { createUserKeys } from '../src/app/user-keys.ts';
import { DomainError } from '../src/domain/errors.ts';
import { totpDecider, totpStreamName } from '../src/domain/totp/decider.ts';
import type { TotpState } from '../src/domain/totp/types.ts';
import { userDecider, userStream } from '../src/domain/user/index.ts';
import { foldStream, loadState } from '../src/eventstore/handle-command.ts';
import type { EventStore } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { ERASED } from '../src/privacy/personal-data.ts';
import { createSnapshotSeal } from '../src/privacy/snapshot-seal.ts';
import { openStreamSnapshots, type SqliteStreamSnapshots } from '../src/stream-snapshots/sqlite.ts';
import { personalFor } from './helpers/privacy.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const TENANT = 'tn_snap';
const MIN = 20;
const SECRET_ENC = 'v1.totp-secret-enc-of-the-user-0123456789';
const ACCOUNT = 'a***@snapshot-account.example';

/** A data directory: the event log, the key store and the snapshots file, as the server has them. */
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'securekey-snapshots-'));
  dirs.push(dir);
  const p = personalFor({ keyStorePath: join(dir, 'keys.db') });
  const snapshotsPath = join(dir, 'snapshots.db');
  const openSnapshots = () => openStreamSnapshots({ path: snapshotsPath, seal: createSnapshotSeal(p.vault), minEvents: MIN });
  let snapshots = openSnapshots();
  const opened: EventStore[] = [];
  /** A process: its own store (aggregate cache), counting the events its stream reads return. */
  const process = (eventsPath = join(dir, 'events.db')) => {
    const raw = createSqliteEventStore({ path: eventsPath });
    opened.push(raw);
    let read = 0;
    const store: EventStore = { ...raw, readStream: async (...a) => ((r) => ((read += r.length), r))(await raw.readStream(...a)) };
    return { store, events: createEventLog(store, p.personal, snapshots), read: () => read };
  };
  return {
    dir,
    ...p,
    snapshotsPath,
    snapshots: () => snapshots,
    /** Closes and opens the snapshots file again (a restart; or room to change it from outside). */
    reopen: (change?: (db: DatabaseSync) => void) => {
      snapshots.close();
      if (change) {
        const db = new DatabaseSync(snapshotsPath);
        change(db);
        db.close();
      }
      snapshots = openSnapshots();
    },
    process,
    close: async () => {
      snapshots.close();
      await Promise.all(opened.map((s) => s.close()));
    },
  };
};

const userKey = 'uk_snapshot_user';
const stream = totpStreamName(TENANT, userKey);
const metadata = { tenantId: TENANT, userId: 'snapshot-user@example.com', userKey };

/** An enrollment and `verifies` accepted codes: 1 + verifies events. */
const history = async (events: ReturnType<ReturnType<typeof dataDir>['process']>['events'], verifies: number, firstStep = 1000) => {
  await events.handle(stream, totpDecider, { type: 'StartTotpEnrollment', data: { secretEnc: SECRET_ENC, algorithm: 'sha1', digits: 6, period: 30, issuer: 'Snap', accountNameMasked: ACCOUNT, replace: true, now: 1 } }, { metadata });
  for (let i = 0; i < verifies; i++) await events.handle(stream, totpDecider, { type: 'VerifyTotpCode', data: { secretEnc: SECRET_ENC, matchedStep: firstStep + i, now: 2 + i, requester: 'rq' } }, { metadata });
};

/** What folding the whole log gives (no cache, no snapshot). */
const logFold = async (d: ReturnType<typeof dataDir>, eventsPath?: string) => {
  const { store } = d.process(eventsPath);
  return foldStream(totpDecider, (await store.readStream(stream)).map(d.personal.openData));
};

test('a cold load of a long stream leaves a snapshot, and the next cold load reads only the events after it', async () => {
  const d = dataDir();
  try {
    await history(d.process().events, 30); // 31 events
    const first = d.process();
    const folded = await first.events.load(stream, totpDecider);
    assert.equal(first.read(), 31, 'no snapshot yet: the whole stream');
    d.snapshots().flush();
    assert.equal(d.snapshots().stats().written, 1);

    const second = d.process();
    const fromSnapshot = await second.events.load(stream, totpDecider);
    assert.equal(second.read(), 1, 'only the event at the snapshot revision (its link hash checked)');
    assert.deepEqual(fromSnapshot, folded);
    assert.equal((fromSnapshot.state as TotpState).status, 'confirmed');

    // Five more events: the next cold load reads them and the snapshot's event.
    await history(second.events, 0);
    for (let i = 0; i < 4; i++) await second.events.handle(stream, totpDecider, { type: 'VerifyTotpCode', data: { secretEnc: SECRET_ENC, matchedStep: 5000 + i, now: 99 + i, requester: 'rq' } }, { metadata });
    const third = d.process();
    const later = await third.events.load(stream, totpDecider);
    assert.equal(third.read(), 1 + 5);
    assert.deepEqual(later.state, await logFold(d));
    assert.equal(later.revision, 35);
    assert.equal(d.snapshots().stats().opened, 2);
  } finally {
    await d.close();
  }
});

test('a short stream, or a load that folded few events, leaves no snapshot', async () => {
  const d = dataDir();
  try {
    await history(d.process().events, MIN - 2); // MIN - 1 events
    await d.process().events.load(stream, totpDecider);
    d.snapshots().flush();
    assert.equal(d.snapshots().stats().written, 0);
  } finally {
    await d.close();
  }
});

/** A data directory with a snapshot of the 31-event stream written. */
const withSnapshot = async () => {
  const d = dataDir();
  await history(d.process().events, 30);
  await d.process().events.load(stream, totpDecider);
  d.snapshots().flush();
  assert.equal(d.snapshots().stats().written, 1);
  return d;
};

test('a snapshot folded by another version of the decider is ignored, and the log folded', async () => {
  const d = await withSnapshot();
  try {
    const bumped = { ...totpDecider, snapshotVersion: totpDecider.snapshotVersion! + 1 };
    const p = d.process();
    const { state } = await p.events.load(stream, bumped);
    assert.equal(p.read(), 31);
    assert.deepEqual(state, await logFold(d));
    assert.equal(d.snapshots().stats().ignored, 1);
  } finally {
    await d.close();
  }
});

test('a snapshot whose event no longer carries its link hash (a log restored from another copy) is ignored', async () => {
  const d = await withSnapshot();
  try {
    // Another log with the same stream, 31 events of other content; and one shorter than the snapshot.
    for (const [name, verifies] of [['other.db', 30], ['shorter.db', 10]] as const) {
      const path = join(d.dir, name);
      await history(d.process(path).events, verifies, 7000);
      const p = d.process(path);
      const { state } = await p.events.load(stream, totpDecider);
      assert.deepEqual(state, await logFold(d, path), name);
      assert.equal((state as TotpState & { lastStep: number }).lastStep, 7000 + verifies - 1, name);
    }
    assert.equal(d.snapshots().stats().mismatched, 2);
  } finally {
    await d.close();
  }
});

test('an altered snapshot (one flipped byte, or moved to another revision) is ignored, never an error', async () => {
  const d = await withSnapshot();
  try {
    d.reopen((db) => {
      const { sealed } = db.prepare('SELECT sealed FROM stream_snapshots').get() as { sealed: Uint8Array };
      sealed[20] = sealed[20]! ^ 1;
      db.prepare('UPDATE stream_snapshots SET sealed = ?').run(sealed);
    });
    const p = d.process();
    assert.deepEqual((await p.events.load(stream, totpDecider)).state, await logFold(d));
    assert.equal(p.read(), 31);
    assert.equal(d.snapshots().stats().ignored, 1);
    d.snapshots().flush(); // the fold of 31 events leaves a good one again

    // The sealed state is bound to its revision and link hash: moved to an earlier event, it does not open.
    const events = await d.process().store.readStream(stream);
    d.reopen((db) => db.prepare('UPDATE stream_snapshots SET revision = 20, link_hash = ?').run(String(events[20]!.metadata.hash)));
    const q = d.process();
    assert.deepEqual((await q.events.load(stream, totpDecider)).state, await logFold(d));
    assert.equal(q.read(), 31);
  } finally {
    await d.close();
  }
});

test('a snapshots file that is not a database is replaced by an empty one', async () => {
  const d = await withSnapshot();
  try {
    d.reopen();
    d.snapshots().close();
    writeFileSync(d.snapshotsPath, Buffer.alloc(8192, 0x5a));
    for (const f of ['-wal', '-shm']) rmSync(d.snapshotsPath + f, { force: true });
    d.reopen();
    const p = d.process();
    assert.deepEqual((await p.events.load(stream, totpDecider)).state, await logFold(d));
    assert.equal(p.read(), 31);
  } finally {
    await d.close().catch(() => {});
  }
});

test('an erasure deletes the user\'s snapshots, a copy kept aside no longer opens, and a load reads [erased] as the log does', async () => {
  const d = await withSnapshot();
  try {
    d.reopen();
    const kept = readFileSync(d.snapshotsPath);
    // The erasure as users.ts runs it: the user's key destroyed, UserErased appended; the server's
    // erasure follower then reaches the event.
    const p = d.process();
    d.vault.destroy(TENANT, 'user', userKey);
    await p.events.handle(userStream(TENANT, 'uh_snapshot_user'), userDecider, { type: 'EraseUser', data: { erasureId: 'ers_1', erasedUserKey: userKey, generation: 0, now: 5 } }, { metadata: { tenantId: TENANT } });
    const follower = createErasureFollower({ users: createUserKeys({ store: p.store, keyring: d.keyring }), vault: d.vault, snapshots: d.snapshots() });
    const [erased] = await p.store.readStream(userStream(TENANT, 'uh_snapshot_user'));
    follower.evolve(new DatabaseSync(':memory:'), erased!);
    const count = (path: string) => {
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM stream_snapshots').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    d.snapshots().close();
    assert.equal(count(d.snapshotsPath), 0, 'the row is deleted');

    // The file as it was before the erasure: its row no longer opens (the key it was sealed with is gone).
    writeFileSync(d.snapshotsPath, kept);
    d.reopen();
    assert.equal(count(d.snapshotsPath), 1);
    const q = d.process();
    const { state } = await q.events.load(stream, totpDecider);
    assert.equal(q.read(), 31, 'folded from the log');
    assert.deepEqual(state, await logFold(d));
    assert.equal((state as TotpState & { enrollment: { secretEnc: string } }).enrollment.secretEnc, ERASED);
    assert.equal(d.snapshots().stats().ignored, 1);
    // The fold after the erasure may leave a snapshot again: it holds only [erased] values.
    d.snapshots().flush();
    const r = d.process();
    assert.deepEqual((await r.events.load(stream, totpDecider)).state, state);
  } finally {
    await d.close();
  }
});

test('a key destroyed between the fold and the write: no snapshot is written', async () => {
  const d = dataDir();
  try {
    await history(d.process().events, 30);
    await d.process().events.load(stream, totpDecider);
    d.vault.destroy(TENANT, 'user', userKey); // before setImmediate writes it
    d.snapshots().flush();
    assert.equal(d.snapshots().stats().written, 0);
  } finally {
    await d.close();
  }
});

test('no personal value or secret of a snapshotted state is in clear in the snapshots file', async () => {
  const d = await withSnapshot();
  try {
    const p = d.process();
    assert.equal((await p.events.load(stream, totpDecider)).state.status, 'confirmed');
    assert.equal(p.read(), 1, 'the state came from the snapshot');
    d.snapshots().close();
    for (const f of [d.snapshotsPath, `${d.snapshotsPath}-wal`].filter(existsSync)) {
      const bytes = readFileSync(f);
      for (const needle of [SECRET_ENC, ACCOUNT, metadata.userId, 'secretEnc', 'confirmed']) assert.ok(!bytes.includes(Buffer.from(needle)), `${needle} in ${f}`);
    }
  } finally {
    d.reopen();
    await d.close();
  }
});

test('two processes that start from a snapshot verify one TOTP code: exactly one succeeds, every time', async () => {
  const d = await withSnapshot();
  try {
    for (let round = 0; round < 8; round++) {
      const [a, b] = [d.process(), d.process()];
      const verify = (p: typeof a) =>
        p.events.handle(stream, totpDecider, { type: 'VerifyTotpCode', data: { secretEnc: SECRET_ENC, matchedStep: 9000 + round, now: 500 + round, requester: 'rq' } }, { metadata });
      const results = await Promise.allSettled([verify(a), verify(b)]);
      const accepted = results.filter((r) => r.status === 'fulfilled' && r.value.events.some((e) => e.type === 'TotpCodeAccepted'));
      assert.equal(accepted.length, 1, `round ${round}: ${JSON.stringify(results.map((r) => (r.status === 'fulfilled' ? r.value.events.map((e) => e.data) : String(r.reason))))}`);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof DomainError, String(r.reason));
    }
    const { state } = await loadState(d.process().store, stream, totpDecider, d.personal);
    assert.deepEqual(state, await logFold(d));
    assert.ok(d.snapshots().stats().opened >= 8);
  } finally {
    await d.close();
  }
});
