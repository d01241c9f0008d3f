// The KurrentDB adapter: the shared contract suite against a real server when KURRENTDB_URL is
// set (e.g. kurrentdb://localhost:2113?tls=false), and, always, its behaviour when the server
// cannot be reached: every call fails fast with StoreUnavailableError, nothing hangs or crashes.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../src/config.ts';
import { createKurrentDbEventStore } from '../src/eventstore/kurrentdb/index.ts';
import { openStore } from '../src/eventstore/open.ts';
import { type EventStore, StoreUnavailableError } from '../src/eventstore/port.ts';
import { runEventStoreContract } from './eventstore-contract.ts';

const url = process.env.KURRENTDB_URL;
if (url) {
  runEventStoreContract('kurrentdb', async () => {
    const store = createKurrentDbEventStore({ connectionString: url });
    return { store, cleanup: () => store.close() };
  });
} else {
  const reason = 'KURRENTDB_URL is not set: no KurrentDB server on this machine';
  console.log(`KurrentDB contract suite skipped: ${reason}`);
  test('KurrentDB contract suite', { skip: reason }, () => {});
}

// ── unreachable server ──────────────────────────────────────────────────────────────────────
const FAST_MS = 3000;

/** Resolves with the time `p` took to reject with StoreUnavailableError. */
const rejectsUnavailable = async (what: string, p: Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof StoreUnavailableError, `${what}: expected StoreUnavailableError, got ${String(err)}`);
    assert.match(err.message, /^event store unavailable: /);
    return true;
  });
  const ms = performance.now() - t0;
  assert.ok(ms < FAST_MS, `${what} took ${Math.round(ms)} ms`);
  return ms;
};

const exerciseEveryCall = async (store: EventStore) => {
  await rejectsUnavailable('ping', store.ping());
  await rejectsUnavailable('append', store.appendToStream('otp-unreachable', [{ type: 'OtpIssued', data: { n: 1 } }], { expectedRevision: 'no_stream' }));
  await rejectsUnavailable('second append', store.appendToStream('otp-unreachable', [{ type: 'OtpIssued', data: { n: 1 } }]));
  await rejectsUnavailable('readStream', store.readStream('otp-unreachable'));
  await rejectsUnavailable('readAll', store.readAll({ fromPosition: 0, maxCount: 10 }));
  await rejectsUnavailable('headPosition', store.headPosition());
  const ac = new AbortController();
  await rejectsUnavailable(
    'subscribeToAll',
    (async () => {
      for await (const _ of store.subscribeToAll({ fromPosition: 0, signal: ac.signal })) assert.fail('no event expected');
    })(),
  );
  ac.abort();
};

describe('KurrentDB adapter with no server listening', () => {
  test('every call rejects quickly with StoreUnavailableError, and keeps doing so', async () => {
    const store = createKurrentDbEventStore({ connectionString: 'kurrentdb://127.0.0.1:1?tls=false' });
    try {
      await exerciseEveryCall(store);
      await exerciseEveryCall(store);
    } finally {
      await store.close();
    }
  });

  test('after close, calls and new subscriptions reject with StoreUnavailableError', async () => {
    const store = createKurrentDbEventStore({ connectionString: 'kurrentdb://127.0.0.1:1?tls=false' });
    await store.close();
    await store.close();
    await rejectsUnavailable('ping', store.ping());
    await rejectsUnavailable('append', store.appendToStream('otp-closed', [{ type: 'A', data: {} }]));
    await rejectsUnavailable('readStream', store.readStream('otp-closed'));
    await rejectsUnavailable('subscribeToAll', store.subscribeToAll({ fromPosition: 0 })[Symbol.asyncIterator]().next());
  });

  test('invalid input is refused before the network is touched', async () => {
    const store = createKurrentDbEventStore({ connectionString: 'kurrentdb://127.0.0.1:1?tls=false' });
    try {
      await assert.rejects(store.appendToStream('v-1', []), TypeError);
      await assert.rejects(store.appendToStream('v-1', [{ type: '', data: {} }]), TypeError);
      await assert.rejects(store.appendToStream('v-1', [{ type: 'A', data: { n: 10n } }]), TypeError);
      await assert.rejects(store.appendToStream('v-1', [{ type: 'A', data: {} }], { expectedRevision: -1 }), TypeError);
      await assert.rejects(store.readStream('v-1', { fromRevision: -1 }), TypeError);
      await assert.rejects(store.readAll({ fromPosition: 1.5 }), TypeError);
    } finally {
      await store.close();
    }
  });
});

describe('KurrentDB adapter with a server that accepts connections but never answers', () => {
  // A black hole: TCP connects, no HTTP/2 or gRPC ever comes back (a hung server or a broken proxy).
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {}).on('close', () => sockets.delete(s));
  });
  let port = 0;
  before(async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  test('every call is bounded by the configured timeouts, and a stuck append does not block the next', async () => {
    const store = createKurrentDbEventStore({ connectionString: `kurrentdb://127.0.0.1:${port}?tls=false`, operationTimeoutMs: 500, pingTimeoutMs: 300 });
    try {
      await exerciseEveryCall(store);
      const ms = await rejectsUnavailable('append again', store.appendToStream('otp-silent', [{ type: 'A', data: {} }]));
      assert.ok(ms >= 450, `the append waited its bound (${Math.round(ms)} ms), it did not fail for another reason`);
    } finally {
      await store.close();
    }
  });

  test('a subscription still waiting for the server ends when its signal aborts or the store closes', async () => {
    const store = createKurrentDbEventStore({ connectionString: `kurrentdb://127.0.0.1:${port}?tls=false`, operationTimeoutMs: 10_000 });
    const count = async (events: AsyncIterable<unknown>) => {
      let n = 0;
      for await (const _ of events) n++;
      return n;
    };
    try {
      const ac = new AbortController();
      const aborted = count(store.subscribeToAll({ fromPosition: 0, signal: ac.signal }));
      const other = count(store.subscribeToAll({ fromPosition: 0, typePrefixes: ['Otp'] }));
      const t0 = performance.now();
      setTimeout(() => ac.abort(), 50);
      assert.equal(await aborted, 0);
      setTimeout(() => void store.close(), 50);
      assert.equal(await other, 0);
      assert.ok(performance.now() - t0 < 1000);
    } finally {
      await store.close();
    }
  });
});

describe('selecting the adapter', () => {
  let dataDir = '';
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'securekey-kdb-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a kurrentdb:// connection string opens the KurrentDB adapter without connecting at start-up', async () => {
    for (const eventStore of ['kurrentdb://127.0.0.1:1?tls=false', 'esdb://127.0.0.1:1?tls=false', 'kurrent://127.0.0.1:1?tls=false']) {
      const store = await openStore({ eventStore, dataDir });
      try {
        await rejectsUnavailable(`ping via ${eventStore.split(':')[0]}`, store.ping());
      } finally {
        await store.close();
      }
    }
  });

  test('a malformed connection string is a ConfigError that does not repeat the password', async () => {
    await assert.rejects(openStore({ eventStore: 'kurrentdb://admin:hunter2secret@127.0.0.1:2113?tls=maybe', dataDir }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.doesNotMatch(err.message, /hunter2secret/);
      assert.match(err.message, /not a valid KurrentDB connection string/);
      return true;
    });
    await assert.rejects(openStore({ eventStore: 'postgres://x', dataDir }), ConfigError);
  });
});
