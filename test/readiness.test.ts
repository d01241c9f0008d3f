// Readiness (/readyz): the pure verdict, and the check against a real SQLite store and projection
// runner while another process keeps appending, as other nodes do on a shared KurrentDB log.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { createProjectionRunner, type Projection } from '../projections/runtime.ts';
import { openReadModelDb } from '../projections/sql.ts';
import { createReadinessCheck, decideReadiness, lagUnitOf } from '../src/api/readiness.ts';
import { StoreUnavailableError } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { until } from './helpers/until.ts';

const fixture = fileURLToPath(new URL('./fixtures/eventstore-child.ts', import.meta.url));

describe('the readiness verdict (pure)', () => {
  test('ready when every checkpoint has reached the head sampled before the check, however far the log has moved since', () => {
    assert.deepEqual(decideReadiness({ storeOk: true, headBefore: 500, checkpoints: { tenants: 500, audit: 730 } }), { ready: true, behind: [] });
  });

  test('a projection short of the sampled head makes the node not ready, and is named', () => {
    assert.deepEqual(decideReadiness({ storeOk: true, headBefore: 500, checkpoints: { tenants: 500, audit: 499, webhooks: 12 } }), { ready: false, behind: ['audit', 'webhooks'] });
  });

  test('a store that does not answer is never ready', () => {
    assert.equal(decideReadiness({ storeOk: false, headBefore: 0, checkpoints: { tenants: 0 } }).ready, false);
  });

  test('lag is counted in events on SQLite and in log bytes on KurrentDB', () => {
    assert.equal(lagUnitOf('sqlite'), 'events');
    for (const s of ['kurrentdb://localhost:2113?tls=false', 'esdb+discover://a,b,c', 'kurrent://x']) assert.equal(lagUnitOf(s), 'log_bytes');
  });
});

describe('the readiness check', () => {
  const counter: Projection = {
    name: 'counter',
    canHandle: ['Tick', 'Poison'],
    init: (db) => db.exec('CREATE TABLE IF NOT EXISTS ticks (n INTEGER NOT NULL)'),
    evolve: (db, e) => {
      if (e.type === 'Poison') throw new Error('cannot apply this one');
      db.prepare('INSERT INTO ticks (n) VALUES (?)').run(e.position);
    },
  };

  const setup = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'securekey-ready-'));
    const path = join(dir, 'events.db');
    const store = createSqliteEventStore({ path });
    const db = openReadModelDb(join(dir, 'readmodels.db'));
    const runner = createProjectionRunner({ store, db, projections: [counter] });
    await runner.start();
    const cleanup = async () => {
      await runner.stop();
      await store.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    };
    return { store, runner, path, cleanup };
  };

  test('a node stays ready while another process keeps appending to the log (the head moves during every check)', async () => {
    const { store, runner, path, cleanup } = await setup();
    const writer = spawn(process.execPath, [fixture, 'load', path, '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const check = createReadinessCheck({ store, runners: [runner], lagUnit: 'events', waitMs: 10_000 });
      await until('the other process under way', async () => (await store.headPosition()) > 20);
      const first = await store.headPosition();
      for (let i = 0; i < 20; i++) {
        const r = await check();
        assert.equal(r.ready, true, JSON.stringify(r));
        assert.equal(r.checks.projectionLagUnit, 'events');
      }
      await until('the log moved on while the checks ran', async () => (await store.headPosition()) > first);
    } finally {
      writer.kill('SIGKILL');
      await once(writer, 'exit');
      await cleanup();
    }
  });

  test('a projection stopped at an error makes the node not ready, named, with its lag', async () => {
    const { store, runner, cleanup } = await setup();
    try {
      await store.appendToStream('tick-a', [{ type: 'Tick', data: {} }, { type: 'Poison', data: {} }, { type: 'Tick', data: {} }]);
      const check = createReadinessCheck({ store, runners: [runner], lagUnit: 'events', waitMs: 300 });
      const r = await check();
      assert.equal(r.ready, false);
      assert.deepEqual(r.checks.behind, ['counter']);
      assert.deepEqual(r.checks.projectionLag, { counter: 2 });
    } finally {
      await cleanup();
    }
  });

  test('a store that does not answer: not ready, reported once until it answers again', async () => {
    const { store, runner, cleanup } = await setup();
    let down = true;
    const reported: unknown[] = [];
    const flaky = { ...store, ping: async () => (down ? Promise.reject(new StoreUnavailableError('event store unavailable: injected')) : store.ping()) };
    try {
      const check = createReadinessCheck({ store: flaky, runners: [runner], lagUnit: 'events', onStoreDown: (err) => reported.push(err) });
      assert.deepEqual(await check(), { ready: false, checks: { store: 'unavailable' } });
      assert.deepEqual(await check(), { ready: false, checks: { store: 'unavailable' } });
      assert.equal(reported.length, 1);
      down = false;
      assert.equal((await check()).ready, true);
      down = true;
      await check();
      assert.equal(reported.length, 2);
    } finally {
      await cleanup();
    }
  });
});
