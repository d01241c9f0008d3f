// A user's stream key follows their erasures. Before the server knows every erasure (and in the
// admin CLI) each lookup reads the user's stream; once it has learnt them from the erasures read
// model, lookups read nothing, and the erasure follower brings each later erasure, made here or by
// another process.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { erasuresProjection, userGenerations } from '../projections/erasures/index.ts';
import { createProjectionRunner } from '../projections/runtime.ts';
import { openReadModelDb } from '../projections/sql.ts';
import { createErasureFollower, learnErasures } from '../src/app/erasure-follower.ts';
import { createUserKeys } from '../src/app/user-keys.ts';
import { createKeyring } from '../src/crypto/keyring.ts';
import { userDecider, userStream } from '../src/domain/user/index.ts';
import { handleCommand } from '../src/eventstore/handle-command.ts';
import type { EventStore } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'securekey-user-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const keyring = createKeyring(Buffer.alloc(32, 3));
const T = 'tn_a';

/** The store, counting the streams read. */
const counting = (store: EventStore) => {
  const reads: string[] = [];
  return { reads, store: { ...store, readStream: (s: string, o?: Parameters<EventStore['readStream']>[1]) => (reads.push(s), store.readStream(s, o)) } };
};

/** An erasure as src/app/users.ts appends it (by this process or another one). */
const erase = async (store: EventStore, userId: string) => {
  const stream = userStream(T, keyring.hmac('user', userId));
  const generation = (await store.readStream(stream)).length;
  const data = { erasureId: `ers_${userId}_${generation}`, erasedUserKey: 'k', generation, now: 0 };
  return handleCommand(store, stream, userDecider, { type: 'EraseUser', data }, { metadata: { tenantId: T } });
};

const keyOf = (userId: string, generation: number) => (generation === 0 ? keyring.hmac('user', userId) : keyring.hmac('user', `${userId}\n${generation}`));

test('user keys read the user stream until they know every erasure; then no lookup reads one, and later erasures come through the follower', async () => {
  const raw = createSqliteEventStore({ path: join(dir, 'events.db') });
  const { store, reads } = counting(raw);
  const users = createUserKeys({ store, keyring });
  await erase(raw, 'alice');
  assert.equal(await users.of(T, 'alice'), keyOf('alice', 1));
  assert.equal(await users.of(T, 'bob'), keyOf('bob', 0));
  assert.equal(reads.length, 2, 'before: each lookup reads the user stream');

  const db = openReadModelDb(join(dir, 'readmodels.db'));
  const runner = createProjectionRunner({ store: raw, db, projections: [erasuresProjection, createErasureFollower({ users, vault: { destroy: () => 0 } })] });
  await runner.start();
  assert.deepEqual([...userGenerations(db)], [{ tenantId: T, userHash: keyring.hmac('user', 'alice'), generation: 1 }]);
  assert.equal(learnErasures({ users, status: runner.status(), readDb: db }), true);
  reads.length = 0;
  assert.equal(await users.of(T, 'alice'), keyOf('alice', 1));
  assert.equal(await users.of(T, 'bob'), keyOf('bob', 0));
  assert.deepEqual(await users.all(T, 'alice'), [keyOf('alice', 0), keyOf('alice', 1)]);

  // Another process erases alice again and bob: the follower brings both.
  const again = await erase(raw, 'alice');
  await erase(raw, 'bob');
  await runner.waitFor((await raw.headPosition()), 10_000);
  assert.equal(await users.of(T, 'alice'), keyOf('alice', 2));
  assert.equal(await users.of(T, 'bob'), keyOf('bob', 1));
  // This process's own erasure counts at once; an older generation never takes it back.
  users.erased(T, keyring.hmac('user', 'carol'), 1);
  users.erased(T, keyring.hmac('user', 'alice'), again.state.generation - 1);
  assert.deepEqual([await users.of(T, 'carol'), await users.of(T, 'alice')], [keyOf('carol', 1), keyOf('alice', 2)]);
  assert.deepEqual(reads, [], 'no stream read once every erasure is known');
  // fresh still reads the log.
  assert.deepEqual(await users.fresh(T, 'bob'), { generation: 1, userKey: keyOf('bob', 1) });
  await runner.stop();
  db.close();
  await raw.close();
});

test('user keys do not take the erasures read model when it is behind the follower or stopped at an error', async () => {
  const store = createSqliteEventStore({ path: ':memory:' });
  const users = createUserKeys({ store, keyring });
  const db = openReadModelDb(join(dir, 'other.db'));
  erasuresProjection.init(db);
  const learn = (status: Parameters<typeof learnErasures>[0]['status']) => learnErasures({ users, status, readDb: db });
  assert.equal(learn({ erasures: { checkpoint: 4 }, 'erasure-follower': { checkpoint: 5 } }), false);
  assert.equal(learn({ erasures: { checkpoint: 5, failure: { position: 6, attempts: 1, since: 0, retryAt: 0, error: 'x' } }, 'erasure-follower': { checkpoint: 5 } }), false);
  assert.equal(learn({ 'erasure-follower': { checkpoint: 5 } }), false);
  assert.equal(learn({ erasures: { checkpoint: 5 }, 'erasure-follower': { checkpoint: 5 } }), true);
  db.close();
  await store.close();
});
