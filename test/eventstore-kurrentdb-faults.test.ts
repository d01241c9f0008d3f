// The KurrentDB event store adapter under injected faults, with no KurrentDB server: the real
// client talks to test/helpers/kurrentdb-fault-server.ts (a failure-path test double built from
// the client's own generated gRPC services). What only a real server can show runs in
// eventstore-kurrentdb.test.ts when KURRENTDB_URL is set.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKurrentDbEventStore } from '../src/eventstore/kurrentdb/index.ts';
import { type EventStore, type StoredEvent, StoreUnavailableError, WrongExpectedRevisionError } from '../src/eventstore/port.ts';
import { type FaultServer, startFaultServer } from './helpers/kurrentdb-fault-server.ts';
import { until } from './helpers/until.ts';

const event = (n = 1) => ({ type: 'OtpIssued', data: { n }, metadata: { tenantId: 'ten_faults' } });

/** The first `n` events of a subscription, then stops it. */
const take = async (events: AsyncIterable<StoredEvent>, n: number): Promise<StoredEvent[]> => {
  const out: StoredEvent[] = [];
  if (n === 0) return out;
  for await (const e of events) {
    out.push(e);
    if (out.length >= n) break;
  }
  return out;
};

const rejectsUnavailable = (p: Promise<unknown>, what: RegExp = /^event store unavailable: /) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(err)}`);
    assert.match(err.message, what);
    return true;
  });

describe('KurrentDB adapter against a fault-injecting server', () => {
  let server: FaultServer;
  const stores: EventStore[] = [];
  const open = (params = '', o: { operationTimeoutMs?: number; pingTimeoutMs?: number } = {}) => {
    // Bounds generous enough for calls that must succeed on a loaded machine (a first call opens
    // the bridge's connection too); the stalls are waited out in full.
    const s = createKurrentDbEventStore({ connectionString: server.url(params), operationTimeoutMs: o.operationTimeoutMs ?? 3000, pingTimeoutMs: o.pingTimeoutMs ?? 3000 });
    stores.push(s);
    return s;
  };
  before(async () => {
    server = await startFaultServer();
  });
  after(async () => {
    for (const s of stores) await s.close();
    await server.stop();
  });

  test('an append the server never answers fails within the bound, and subscriptions and appends keep working afterwards', async () => {
    const store = open();
    await store.appendToStream('otp-slow.1', [event()], { expectedRevision: 'no_stream' });
    server.faults.stallAppends = 1;
    const t0 = performance.now();
    await rejectsUnavailable(store.appendToStream('otp-slow.2', [event()]), /did not complete within 3000 ms/);
    assert.ok(performance.now() - t0 < 10_000);
    const stalled = server.calls.filter((c) => c.method === 'Streams.BatchAppend');
    assert.ok(stalled.every((c) => c.deadlineMs !== undefined && c.deadlineMs < 3000), `the server is given a deadline below the local bound: ${stalled.map((c) => c.deadlineMs)}`);

    // The stuck connection was replaced: a new subscription and a new append work.
    const [first] = await take(store.subscribeToAll({ fromPosition: 0 }), 1);
    assert.equal(first.streamName, 'otp-slow.1');
    const r = await store.appendToStream('otp-slow.3', [event()], { expectedRevision: 'no_stream' });
    assert.ok(r.position > first.position);
    await until('the stuck call dropped with its connection', () => server.calls.some((c) => c.method === 'Streams.BatchAppend' && c.cancelled), 5000);
  });

  test('a subscription dropped by the server mid-stream fails with StoreUnavailableError, and resubscribing resumes after the last event', async () => {
    const store = open();
    server.publish('otp-drop.1', [event(1)]);
    const from = server.log.at(-1)!.position - 1;
    const it = store.subscribeToAll({ fromPosition: from })[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.done, false);
    const last = first.value as StoredEvent;
    server.dropSubscriptions();
    await rejectsUnavailable(it.next());
    server.publish('otp-drop.2', [event(2)]);
    const [next] = await take(store.subscribeToAll({ fromPosition: last.position }), 1);
    assert.equal(next.streamName, 'otp-drop.2');
  });

  test('an append answered without a position gets its position from the stream\'s event', async () => {
    const store = open();
    server.faults.appendsWithoutPosition = true;
    try {
      const r = await store.appendToStream('otp-nopos.1', [event(1), event(2)], { expectedRevision: 'no_stream' });
      const written = server.log.filter((e) => e.stream === 'otp-nopos.1');
      assert.deepEqual(r, { nextExpectedRevision: 1, position: written[1].position });
    } finally {
      server.faults.appendsWithoutPosition = false;
    }
  });

  test('with throwOnAppendFailure=false, a failed append (success: false) is still a WrongExpectedRevisionError', async () => {
    const store = open('&throwOnAppendFailure=false');
    await store.appendToStream('otp-wev.1', [event()], { expectedRevision: 'no_stream' });
    server.faults.wrongExpectedVersion = true;
    try {
      await assert.rejects(store.appendToStream('otp-wev.1', [event()], { expectedRevision: 5 }), (err: unknown) => {
        assert.ok(err instanceof WrongExpectedRevisionError, String(err));
        assert.equal(err.stream, 'otp-wev.1');
        assert.equal(err.expected, 5);
        assert.equal(err.actual, 0);
        return true;
      });
    } finally {
      server.faults.wrongExpectedVersion = false;
    }
  });

  test('reads the server never answers fail within the bound; ping fails too, and both recover', async () => {
    const store = open();
    server.publish('otp-stall.1', [event()]);
    server.faults.stallReads = true;
    try {
      await Promise.all([
        rejectsUnavailable(store.readStream('otp-stall.1'), /readStream did not complete within 3000 ms/),
        rejectsUnavailable(store.readAll({ fromPosition: 0, maxCount: 5 })),
        rejectsUnavailable(store.headPosition()),
        rejectsUnavailable(store.ping()),
      ]);
    } finally {
      server.faults.stallReads = false;
    }
    assert.equal((await store.readStream('otp-stall.1')).length, 1);
    await store.ping();
  });

  test('ping fails when the gRPC channel that appends and subscriptions use is stuck, even though reads work', async () => {
    const store = open();
    await store.ping();
    server.faults.stallNodeChannel = true;
    try {
      await rejectsUnavailable(store.ping());
      assert.equal((await store.readStream('otp-stall.1')).length, 1, 'reads (the Rust bridge) still work');
    } finally {
      server.faults.stallNodeChannel = false;
    }
    await until('ping recovers', () => store.ping().then(() => true, () => false), 10_000);
  });

  test('a store used only for reads never opens its gRPC channel, and closes at once', async () => {
    const store = createKurrentDbEventStore({ connectionString: server.url(), operationTimeoutMs: 3000 });
    const before = server.calls.length;
    server.publish('otp-readonly.1', [event()]);
    assert.equal((await store.readStream('otp-readonly.1')).length, 1);
    const t0 = performance.now();
    await store.close();
    assert.ok(performance.now() - t0 < 1000);
    assert.deepEqual(server.calls.slice(before).filter((c) => c.fromNodeChannel), [], 'reads go through the bridge only');
  });

  test('stream reads without positions (servers before 22.6) are refused with an error naming the minimum version', async () => {
    const store = open();
    server.publish('otp-old.1', [event()]);
    server.faults.streamReadsWithoutPositions = true;
    try {
      await assert.rejects(store.readStream('otp-old.1'), /22\.10/);
    } finally {
      server.faults.streamReadsWithoutPositions = false;
    }
  });
});

describe('KurrentDB adapter pointed at a follower', () => {
  for (const batchAppend of [true, false]) {
    test(`an append sent to a follower is written on the leader it names, in the same call (${batchAppend ? 'batch append' : 'unary append'})`, async () => {
      const leader = await startFaultServer({ batchAppend });
      const follower = await startFaultServer({ batchAppend });
      follower.faults.notLeader = { host: '127.0.0.1', port: leader.port };
      const store = createKurrentDbEventStore({ connectionString: follower.url(), operationTimeoutMs: 3000 });
      try {
        const r = await store.appendToStream('otp-follower.1', [event()], { expectedRevision: 'no_stream' });
        assert.equal(leader.log.length, 1);
        assert.equal(follower.log.length, 0);
        assert.equal(r.position, leader.log[0].position);
        await store.appendToStream('otp-follower.2', [event()], { expectedRevision: 'no_stream' });
        assert.equal(leader.log.length, 2, 'later appends go to the leader directly');
      } finally {
        await store.close();
        await follower.stop();
        await leader.stop();
      }
    });
  }
});

describe('KurrentDB adapter and the server version', () => {
  test('a server older than the minimum makes ping fail, naming both versions', async () => {
    const old = await startFaultServer({ version: '21.10.5.0' });
    const store = createKurrentDbEventStore({ connectionString: old.url() });
    try {
      await rejectsUnavailable(store.ping(), /21\.10\.5\.0, older than the minimum 22\.10/);
    } finally {
      await store.close();
      await old.stop();
    }
  });
});
