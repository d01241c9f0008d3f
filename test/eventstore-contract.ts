// The event store contract: every adapter registers these tests with its own factory.
// Tests use fresh stream names and type prefixes, so they also pass on a shared, non-empty store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { type EventStore, type ExpectedRevision, type StoredEvent, type SubscribeOptions, WrongExpectedRevisionError } from '../src/eventstore/port.ts';

export type MakeStore = () => Promise<{ store: EventStore; cleanup: () => Promise<void> }>;

const uid = () => randomUUID().replaceAll('-', '');
const streamName = (category = 'contract') => `${category}-${uid()}`;
const ev = (type: string, data: Record<string, unknown> = {}) => ({ type, data });
const expectFor = (revision: number): ExpectedRevision => (revision === 0 ? 'no_stream' : revision - 1);

const assertConflict = async (p: Promise<unknown>, stream: string, expected: ExpectedRevision, actual: number) => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WrongExpectedRevisionError, `expected WrongExpectedRevisionError, got ${err}`);
    assert.equal(err.stream, stream);
    assert.equal(err.expected, expected);
    assert.equal(err.actual, actual);
    return true;
  });
};

/** Runs a subscription in the background; `until` waits for a condition on what arrived. */
const subscriber = (store: EventStore, opts: Omit<SubscribeOptions, 'signal'>) => {
  const ac = new AbortController();
  const received: StoredEvent[] = [];
  let failure: unknown;
  let check = () => {};
  const done = (async () => {
    for await (const e of store.subscribeToAll({ ...opts, signal: ac.signal })) {
      received.push(e);
      check();
    }
  })().catch((err) => {
    failure = err;
    check();
  });
  const until = (cond: (r: StoredEvent[]) => boolean, ms = 5000) =>
    new Promise<StoredEvent[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`subscription timed out with ${received.length} events`)), ms);
      check = () => {
        if (failure !== undefined) {
          clearTimeout(timer);
          reject(failure);
        } else if (cond(received)) {
          clearTimeout(timer);
          resolve(received.slice());
        }
      };
      check();
    });
  const stop = async () => {
    ac.abort();
    await done;
  };
  return { received, until, stop };
};

export const runEventStoreContract = (name: string, makeStore: MakeStore) => {
  const withStore = (fn: (store: EventStore) => Promise<void>) => async () => {
    const { store, cleanup } = await makeStore();
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  };

  describe(`event store contract: ${name}`, () => {
    test('appends and reads a stream in order, with revisions, positions and metadata', withStore(async (store) => {
      const s = streamName();
      const id = randomUUID();
      const r1 = await store.appendToStream(s, [{ type: 'Opened', data: { n: 1, nested: { a: [1, 'x'] } }, metadata: { tenantId: 't1' }, id }]);
      const r2 = await store.appendToStream(s, [ev('Changed', { n: 2 }), ev('Changed', { n: 3 })]);
      assert.equal(r1.nextExpectedRevision, 0);
      assert.equal(r2.nextExpectedRevision, 2);
      assert.ok(r2.position > r1.position);
      const events = await store.readStream(s);
      assert.deepEqual(events.map((e) => [e.revision, e.type, e.data.n]), [[0, 'Opened', 1], [1, 'Changed', 2], [2, 'Changed', 3]]);
      assert.equal(events[0].id, id);
      assert.deepEqual(events[0].data, { n: 1, nested: { a: [1, 'x'] } });
      assert.deepEqual(events[0].metadata, { tenantId: 't1' });
      assert.deepEqual(events[1].metadata, {});
      assert.match(events[1].id, /^[0-9a-f-]{36}$/i);
      assert.notEqual(events[1].id, events[2].id);
      assert.ok(events.every((e) => e.streamName === s && e.recordedAt instanceof Date && !Number.isNaN(e.recordedAt.getTime())));
      assert.equal(events[0].position, r1.position);
      assert.equal(events[2].position, r2.position);
      assert.ok(events[0].position > 0 && events[0].position < events[1].position && events[1].position < events[2].position);
    }));

    test('reading a stream that does not exist gives no events', withStore(async (store) => {
      assert.deepEqual(await store.readStream(streamName()), []);
    }));

    test("expected revision 'no_stream' accepts a new stream and refuses an existing one", withStore(async (store) => {
      const s = streamName();
      await store.appendToStream(s, [ev('A'), ev('B')], { expectedRevision: 'no_stream' });
      await assertConflict(store.appendToStream(s, [ev('C')], { expectedRevision: 'no_stream' }), s, 'no_stream', 1);
      assert.equal((await store.readStream(s)).length, 2);
    }));

    test("expected revision 'stream_exists' refuses a missing stream and accepts an existing one", withStore(async (store) => {
      const s = streamName();
      await assertConflict(store.appendToStream(s, [ev('A')], { expectedRevision: 'stream_exists' }), s, 'stream_exists', -1);
      assert.deepEqual(await store.readStream(s), []);
      await store.appendToStream(s, [ev('A')]);
      const r = await store.appendToStream(s, [ev('B')], { expectedRevision: 'stream_exists' });
      assert.equal(r.nextExpectedRevision, 1);
    }));

    test("expected revision 'any' (the default) never conflicts", withStore(async (store) => {
      const s = streamName();
      await store.appendToStream(s, [ev('A')], { expectedRevision: 'any' });
      await store.appendToStream(s, [ev('B')], { expectedRevision: 'any' });
      const r = await store.appendToStream(s, [ev('C')]);
      assert.equal(r.nextExpectedRevision, 2);
    }));

    test('an exact expected revision must equal the revision of the last event', withStore(async (store) => {
      const s = streamName();
      await assertConflict(store.appendToStream(s, [ev('A')], { expectedRevision: 0 }), s, 0, -1);
      await store.appendToStream(s, [ev('A'), ev('B')]);
      await assertConflict(store.appendToStream(s, [ev('C')], { expectedRevision: 0 }), s, 0, 1);
      await assertConflict(store.appendToStream(s, [ev('C')], { expectedRevision: 2 }), s, 2, 1);
      const r = await store.appendToStream(s, [ev('C')], { expectedRevision: 1 });
      assert.equal(r.nextExpectedRevision, 2);
      assert.deepEqual((await store.readStream(s)).map((e) => e.type), ['A', 'B', 'C']);
    }));

    test('a failing batch writes nothing: a conflict or an unserializable event', withStore(async (store) => {
      const s = streamName();
      await store.appendToStream(s, [ev('A')]);
      const head = await store.headPosition();
      await assert.rejects(store.appendToStream(s, [ev('B'), ev('C'), ev('D')], { expectedRevision: 'no_stream' }), WrongExpectedRevisionError);
      await assert.rejects(store.appendToStream(s, [ev('B'), ev('C', { n: 10n }), ev('D')]));
      const other = streamName();
      await assert.rejects(store.appendToStream(other, [ev('B'), ev('C', { n: 10n })]));
      assert.deepEqual((await store.readStream(s)).map((e) => e.type), ['A']);
      assert.deepEqual(await store.readStream(other), []);
      const after = await store.readAll({ fromPosition: head });
      assert.ok(!after.some((e) => e.streamName === s || e.streamName === other));
    }));

    test('an event type starting with "$" (reserved for system events) is refused and nothing is written', withStore(async (store) => {
      const s = streamName();
      await assert.rejects(store.appendToStream(s, [ev('A'), ev('$metadata')]), (err: unknown) => err instanceof TypeError && /reserved for the event store's system events/.test(err.message));
      await assert.rejects(store.appendToStream(s, [ev('$')]), TypeError);
      assert.deepEqual(await store.readStream(s), []);
    }));

    test('a conflicting append does not affect appends made at the same time', withStore(async (store) => {
      const [a, b, c] = [streamName(), streamName(), streamName()];
      await store.appendToStream(b, [ev('Existing')]);
      const results = await Promise.allSettled([
        store.appendToStream(a, [ev('A1'), ev('A2')], { expectedRevision: 'no_stream' }),
        store.appendToStream(b, [ev('B1')], { expectedRevision: 'no_stream' }),
        store.appendToStream(c, [ev('C1')], { expectedRevision: 'no_stream' }),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.equal((await store.readStream(a)).length, 2);
      assert.deepEqual((await store.readStream(b)).map((e) => e.type), ['Existing']);
      assert.equal((await store.readStream(c)).length, 1);
    }));

    test('readStream pages with fromRevision and maxCount', withStore(async (store) => {
      const s = streamName();
      await store.appendToStream(s, Array.from({ length: 10 }, (_, i) => ev('N', { i })));
      assert.deepEqual((await store.readStream(s, { fromRevision: 3, maxCount: 4 })).map((e) => e.revision), [3, 4, 5, 6]);
      assert.deepEqual((await store.readStream(s, { fromRevision: 8 })).map((e) => e.data.i), [8, 9]);
      assert.deepEqual((await store.readStream(s, { maxCount: 2 })).map((e) => e.revision), [0, 1]);
      assert.deepEqual(await store.readStream(s, { fromRevision: 10 }), []);
    }));

    test('readAll pages through the global log from an exclusive position', withStore(async (store) => {
      const s = streamName();
      const first = await store.appendToStream(s, [ev('N', { i: 0 })]);
      await store.appendToStream(s, Array.from({ length: 6 }, (_, i) => ev('N', { i: i + 1 })));
      const last = await store.appendToStream(s, [ev('N', { i: 7 })]);
      const pages: StoredEvent[] = [];
      let from = first.position - 1;
      for (;;) {
        const page = await store.readAll({ fromPosition: from, maxCount: 3 });
        assert.ok(page.length <= 3);
        pages.push(...page);
        if (page.length === 0 || page.at(-1)!.position >= last.position) break;
        from = page.at(-1)!.position;
      }
      const mine = pages.filter((e) => e.streamName === s);
      assert.deepEqual(mine.map((e) => e.data.i), [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(mine, await store.readStream(s));
      const after = await store.readAll({ fromPosition: first.position });
      assert.equal(after.filter((e) => e.streamName === s)[0]?.data.i, 1);
      assert.ok(!(await store.readAll({ fromPosition: last.position })).some((e) => e.streamName === s));
    }));

    test('headPosition is the position of the last event in the log', withStore(async (store) => {
      const before = await store.headPosition();
      assert.ok(before >= 0);
      const r = await store.appendToStream(streamName(), [ev('A'), ev('B')]);
      assert.ok(r.position > before);
      assert.ok((await store.headPosition()) >= r.position);
      await store.ping();
    }));

    test('50 concurrent appenders with the same expected revision: exactly one wins each revision', withStore(async (store) => {
      const s = streamName('race');
      for (let rev = 0; rev < 5; rev++) {
        const results = await Promise.allSettled(
          Array.from({ length: 50 }, (_, i) => store.appendToStream(s, [ev('Raced', { rev, i })], { expectedRevision: expectFor(rev) })),
        );
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(won.length, 1, `revision ${rev}: ${won.length} winners`);
        for (const r of results) {
          if (r.status === 'rejected') {
            assert.ok(r.reason instanceof WrongExpectedRevisionError);
            assert.equal(r.reason.actual, rev);
          }
        }
        const stored = await store.readStream(s, { fromRevision: rev });
        assert.deepEqual(stored.map((e) => e.data), [{ rev, i: won[0] }]);
      }
    }));

    test('50 appenders retrying on conflict are linearized: contiguous revisions, no lost write', withStore(async (store) => {
      const s = streamName('race');
      const appender = async (i: number) => {
        for (;;) {
          const rev = (await store.readStream(s)).length;
          try {
            return await store.appendToStream(s, [ev('Counted', { i })], { expectedRevision: expectFor(rev) });
          } catch (err) {
            if (!(err instanceof WrongExpectedRevisionError)) throw err;
          }
        }
      };
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => appender(i)));
      assert.deepEqual(results.map((r) => r.nextExpectedRevision).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
      const stored = await store.readStream(s);
      assert.deepEqual(stored.map((e) => e.revision), Array.from({ length: 50 }, (_, i) => i));
      assert.deepEqual(stored.map((e) => e.data.i as number).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
    }));

    test('global positions are strictly increasing under concurrent appends to many streams', withStore(async (store) => {
      const streams = Array.from({ length: 10 }, () => streamName());
      const before = await store.headPosition();
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => store.appendToStream(streams[i % 10], [ev('P', { i }), ev('Q', { i })])),
      );
      assert.equal(new Set(results.map((r) => r.position)).size, 200);
      const mine = (await store.readAll({ fromPosition: before })).filter((e) => streams.includes(e.streamName));
      assert.equal(mine.length, 400);
      for (let k = 1; k < mine.length; k++) assert.ok(mine[k].position > mine[k - 1].position);
      for (const s of streams) {
        assert.deepEqual(mine.filter((e) => e.streamName === s).map((e) => e.revision), Array.from({ length: 40 }, (_, i) => i));
      }
      const lastOf = new Map(mine.map((e) => [`${e.data.i}:${e.type}`, e.position]));
      results.forEach((r, i) => assert.equal(r.position, lastOf.get(`${i}:Q`)));
    }));

    test('a subscription catches up, then delivers events appended after it started', withStore(async (store) => {
      const p = `T${uid()}`;
      const s = streamName();
      await store.appendToStream(s, [ev(`${p}.A`, { i: 0 }), ev(`${p}.A`, { i: 1 }), ev(`${p}.A`, { i: 2 })]);
      const sub = subscriber(store, { fromPosition: 0, typePrefixes: [p] });
      try {
        await sub.until((r) => r.length >= 3);
        await store.appendToStream(s, [ev(`${p}.B`, { i: 3 })]);
        await store.appendToStream(streamName(), [ev(`${p}.B`, { i: 4 })]);
        const got = await sub.until((r) => r.length >= 5);
        assert.deepEqual(got.map((e) => e.data.i), [0, 1, 2, 3, 4]);
        for (let k = 1; k < got.length; k++) assert.ok(got[k].position > got[k - 1].position);
      } finally {
        await sub.stop();
      }
      assert.equal(sub.received.length, 5);
    }));

    test('a subscription starts after fromPosition (exclusive) and sees every stream without a filter', withStore(async (store) => {
      const s = streamName();
      const first = await store.appendToStream(s, [ev('Sub', { i: 0 })]);
      await store.appendToStream(s, [ev('Sub', { i: 1 })]);
      const sub = subscriber(store, { fromPosition: first.position });
      try {
        await sub.until((r) => r.some((e) => e.streamName === s));
        await store.appendToStream(s, [ev('Sub', { i: 2 })]);
        const got = await sub.until((r) => r.filter((e) => e.streamName === s).length >= 2);
        assert.deepEqual(got.filter((e) => e.streamName === s).map((e) => e.data.i), [1, 2]);
        assert.ok(got.every((e) => e.position > first.position));
      } finally {
        await sub.stop();
      }
    }));

    test('a subscription filters by type prefix, in catch-up and live', withStore(async (store) => {
      const p = `T${uid()}`;
      const s = streamName();
      await store.appendToStream(s, [ev(`${p}.Alpha`, { i: 0 }), ev(`${p}.Beta`, { i: 1 }), ev(`${p}.Gamma`, { i: 2 })]);
      const sub = subscriber(store, { fromPosition: 0, typePrefixes: [`${p}.Al`, `${p}.Ga`] });
      try {
        await sub.until((r) => r.length >= 2);
        await store.appendToStream(s, [ev(`${p}.Beta`, { i: 3 }), ev(`${p}.Alpha`, { i: 4 }), ev(`X${p}.Alpha`, { i: 5 })]);
        await store.appendToStream(s, [ev(`${p}.Gamma`, { i: 6 })]);
        const got = await sub.until((r) => r.length >= 4);
        assert.deepEqual(got.map((e) => e.data.i), [0, 2, 4, 6]);
      } finally {
        await sub.stop();
      }
      assert.equal(sub.received.length, 4);
    }));

    test('a live subscription delivers concurrent appends in position order, each once', withStore(async (store) => {
      const p = `T${uid()}`;
      const sub = subscriber(store, { fromPosition: await store.headPosition(), typePrefixes: [p] });
      try {
        const streams = Array.from({ length: 10 }, () => streamName());
        const ids = Array.from({ length: 100 }, () => randomUUID());
        await Promise.all(ids.map((id, i) => store.appendToStream(streams[i % 10], [{ type: `${p}.Live`, data: { i }, id }])));
        const got = await sub.until((r) => r.length >= 100);
        assert.deepEqual(new Set(got.map((e) => e.id)), new Set(ids));
        for (let k = 1; k < got.length; k++) assert.ok(got[k].position > got[k - 1].position);
      } finally {
        await sub.stop();
      }
      assert.equal(sub.received.length, 100);
    }));

    test('a subscription waiting for live events ends when its signal aborts', withStore(async (store) => {
      const ac = new AbortController();
      const it = store.subscribeToAll({ fromPosition: await store.headPosition(), typePrefixes: [`T${uid()}`], signal: ac.signal });
      const ended = (async () => {
        let n = 0;
        for await (const _ of it) n++;
        return n;
      })();
      setTimeout(() => ac.abort(), 50);
      assert.equal(await ended, 0);
    }));
  });
};
