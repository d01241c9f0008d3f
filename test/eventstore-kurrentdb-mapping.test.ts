// The KurrentDB adapter's mappings, checked without a server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ANY,
  DeadlineExceededError,
  NO_STREAM,
  NotLeaderError,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import {
  MINIMUM_SERVER_VERSION,
  fromCurrentState,
  fromStreamState,
  isNotLeader,
  isStreamNotFound,
  isUnavailable,
  knownPortPosition,
  serverDeadlineMs,
  serverVersionProblem,
  toEventData,
  toKurrentPosition,
  toPortPosition,
  toStoreError,
  toStoredEvent,
  toStreamState,
} from '../src/eventstore/kurrentdb/mapping.ts';
import { type ExpectedRevision, StoreUnavailableError, WrongExpectedRevisionError } from '../src/eventstore/port.ts';

const MAX_U64 = 2n ** 64n - 1n;

describe('expected revision <-> streamState', () => {
  test('the three named states map to the client constants and back', () => {
    assert.equal(toStreamState('no_stream'), NO_STREAM);
    assert.equal(toStreamState('stream_exists'), STREAM_EXISTS);
    assert.equal(toStreamState('any'), ANY);
    for (const s of ['no_stream', 'stream_exists', 'any'] as const) assert.equal(fromStreamState(toStreamState(s)), s);
  });

  test('an exact revision becomes a bigint revision and back, up to the largest safe integer', () => {
    assert.equal(toStreamState(0), 0n);
    assert.equal(toStreamState(41), 41n);
    assert.equal(toStreamState(Number.MAX_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER));
    for (const n of [0, 1, 41, 1_000_000, Number.MAX_SAFE_INTEGER]) assert.equal(fromStreamState(toStreamState(n)), n);
  });

  test('a revision that is not an integer >= 0 is refused before anything is sent', () => {
    for (const bad of [-1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1, '3', null] as unknown as ExpectedRevision[]) {
      assert.throws(() => toStreamState(bad), TypeError, String(bad));
    }
  });

  test('a bigint revision beyond 2^53 is refused rather than rounded', () => {
    assert.throws(() => fromStreamState(2n ** 53n), RangeError);
    assert.throws(() => fromCurrentState(MAX_U64), RangeError);
  });

  test("the server's current state is the port's actual revision: -1 when the stream does not exist", () => {
    assert.equal(fromCurrentState(NO_STREAM), -1);
    assert.equal(fromCurrentState(0n), 0);
    assert.equal(fromCurrentState(7n), 7);
  });
});

describe('positions', () => {
  test('the port position is the commit position', () => {
    assert.equal(toPortPosition({ commit: 1234n, prepare: 1234n }), 1234);
    assert.equal(toPortPosition({ commit: 2n ** 40n, prepare: 2n ** 40n }), 2 ** 40);
  });

  test('when the server sends no commit position (2^64-1), the prepare position is used', () => {
    assert.equal(toPortPosition({ commit: MAX_U64, prepare: 987n }), 987);
  });

  test('an event without any position, or one beyond 2^53, is an error, not a wrong number', () => {
    assert.throws(() => toPortPosition(undefined), new RegExp(`without a log position.*${MINIMUM_SERVER_VERSION} or later`));
    assert.throws(() => toPortPosition({ commit: MAX_U64, prepare: MAX_U64 }), /without a log position/);
    assert.throws(() => toPortPosition({ commit: 2n ** 53n, prepare: 2n ** 53n }), RangeError);
  });

  test('a port position becomes commit = prepare = that number, and 0 is the start of the log', () => {
    assert.equal(toKurrentPosition(0), START);
    assert.deepEqual(toKurrentPosition(5678), { commit: 5678n, prepare: 5678n });
    for (const n of [1, 5678, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      const p = toKurrentPosition(n);
      assert.notEqual(p, START);
      assert.equal(toPortPosition(p as { commit: bigint; prepare: bigint }), n);
    }
  });

  test('an unknown position (an append answered without one) is undefined, so the adapter can read it back', () => {
    assert.equal(knownPortPosition(undefined), undefined);
    assert.equal(knownPortPosition({ commit: MAX_U64, prepare: MAX_U64 }), undefined);
    assert.equal(knownPortPosition({ commit: 42n, prepare: 42n }), 42);
  });

  test('a position that is not an integer >= 0 is refused', () => {
    for (const bad of [-1, 0.5, NaN, Number.MAX_SAFE_INTEGER + 1]) assert.throws(() => toKurrentPosition(bad), TypeError);
  });
});

describe('events', () => {
  const id = '0b6a2a52-7f0e-4d8e-9a33-7f4b3c2d1e0f';

  test('a new event becomes a JSON event with its id, type, data and metadata', () => {
    const e = toEventData({ type: 'OtpIssued', data: { n: 1, nested: { a: [1, 'x'] } }, metadata: { tenantId: 't1' }, id });
    assert.deepEqual(e, { id, contentType: 'application/json', type: 'OtpIssued', data: { n: 1, nested: { a: [1, 'x'] } }, metadata: { tenantId: 't1' } });
  });

  test('an event without id gets a fresh one; without metadata it has none', () => {
    const e = toEventData({ type: 'A', data: {} }, () => id);
    assert.equal(e.id, id);
    assert.equal(e.metadata, undefined);
    assert.match(toEventData({ type: 'A', data: {} }).id, /^[0-9a-f-]{36}$/);
  });

  test('events that cannot be written are refused up front with a TypeError', () => {
    assert.throws(() => toEventData({ type: '', data: {} }), TypeError);
    assert.throws(() => toEventData({ type: '$metadata', data: {} }), /reserved for the event store's system events/);
    assert.throws(() => toEventData({ type: 'A', data: null as never }), TypeError);
    assert.throws(() => toEventData({ type: 'A', data: [1] as never }), TypeError);
    assert.throws(() => toEventData({ type: 'A', data: { n: 10n } }), /not serializable/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => toEventData({ type: 'A', data: cyclic }), TypeError);
    assert.throws(() => toEventData({ type: 'A', data: {}, metadata: 'x' as never }), TypeError);
    assert.throws(() => toEventData({ type: 'A', data: {}, id: 'not-a-uuid' }), TypeError);
  });

  test('the data sent is a plain JSON copy, so later changes to the caller object do not leak in', () => {
    const data = { when: new Date(0), n: 1 };
    const e = toEventData({ type: 'A', data });
    data.n = 2;
    assert.deepEqual(e.data, { when: '1970-01-01T00:00:00.000Z', n: 1 });
  });

  test('a read event becomes a stored event with numbers for revision and position', () => {
    const created = new Date('2026-11-26T10:00:00Z');
    const stored = toStoredEvent({
      event: { streamId: 'otp-abc', id, type: 'OtpIssued', revision: 3n, created, data: { n: 1 }, metadata: { tenantId: 't1' }, position: { commit: 900n, prepare: 900n } },
      commitPosition: 900n,
    });
    assert.deepEqual(stored, { id, type: 'OtpIssued', data: { n: 1 }, metadata: { tenantId: 't1' }, streamName: 'otp-abc', revision: 3, position: 900, recordedAt: created });
  });

  test('missing metadata, non-object data and a missing event are handled', () => {
    const base = { streamId: 's-1', id, type: 'X', revision: 0n, created: new Date(0), position: { commit: 10n, prepare: 10n } };
    assert.deepEqual(toStoredEvent({ event: { ...base, data: { a: 1 }, metadata: undefined } })?.metadata, {});
    assert.deepEqual(toStoredEvent({ event: { ...base, data: new Uint8Array([1, 2]), metadata: new Uint8Array([3]) } })?.data, {});
    assert.deepEqual(toStoredEvent({ event: { ...base, data: 'text' } })?.data, {});
    assert.equal(toStoredEvent({ event: null }), undefined);
    assert.equal(toStoredEvent({}), undefined);
  });

  test("an event without its own position takes the entry's commit position", () => {
    const e = { streamId: 's-1', id, type: 'X', revision: 0n, created: new Date(0), data: {} };
    assert.equal(toStoredEvent({ event: e, commitPosition: 77n })?.position, 77);
  });
});

describe('errors', () => {
  test('a wrong expected version becomes WrongExpectedRevisionError with the append’s stream and expected revision', () => {
    const err = new WrongExpectedVersionError(undefined, { streamName: 'otp-1', expected: 2n, current: 5n });
    const mapped = toStoreError(err, { stream: 'otp-1', expected: 2 });
    assert.ok(mapped instanceof WrongExpectedRevisionError);
    assert.equal(mapped.stream, 'otp-1');
    assert.equal(mapped.expected, 2);
    assert.equal(mapped.actual, 5);
  });

  test('a conflict on a stream that does not exist has actual revision -1', () => {
    const err = new WrongExpectedVersionError(undefined, { streamName: 'otp-2', expected: STREAM_EXISTS, current: NO_STREAM });
    const mapped = toStoreError(err, { stream: 'otp-2', expected: 'stream_exists' });
    assert.ok(mapped instanceof WrongExpectedRevisionError);
    assert.deepEqual([mapped.expected, mapped.actual], ['stream_exists', -1]);
  });

  test('without the append context, stream and expected revision come from the error itself', () => {
    const like = { type: 'wrong-expected-version', streamName: 'otp-3', expectedState: NO_STREAM, actualState: 0n, message: 'wrong' };
    const mapped = toStoreError(like);
    assert.ok(mapped instanceof WrongExpectedRevisionError);
    assert.deepEqual([mapped.stream, mapped.expected, mapped.actual], ['otp-3', 'no_stream', 0]);
  });

  test('unreachable-server errors become StoreUnavailableError, keeping the original as cause', () => {
    const grpc14 = Object.assign(new Error('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1'), { code: 14, details: 'No connection established' });
    const cases: unknown[] = [
      grpc14,
      new UnavailableError(),
      new DeadlineExceededError(),
      Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4 }),
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      new Error('Failed to discover after 10 attempts.'),
      new StoreUnavailableError('already mapped'),
    ];
    for (const err of cases) {
      assert.ok(isUnavailable(err), String(err));
      const mapped = toStoreError(err);
      assert.ok(mapped instanceof StoreUnavailableError, String(err));
      if (mapped !== err) assert.equal((mapped as Error).cause, err);
    }
    assert.match(String((toStoreError(grpc14) as Error).message), /^event store unavailable: 14 UNAVAILABLE/);
  });

  test('a leader change is unavailable for now (the client reconnects to the new leader)', () => {
    const notLeader = Object.assign(Object.create(NotLeaderError.prototype) as object, { type: 'not-leader', message: 'not leader' });
    assert.ok(toStoreError(notLeader) instanceof StoreUnavailableError);
  });

  test('anything else passes through unchanged', () => {
    const cases: unknown[] = [new Error('boom'), new TypeError('bad'), new UnknownError(), Object.assign(new Error('x'), { code: 3 }), 'text', null, undefined];
    for (const err of cases) {
      assert.equal(isUnavailable(err), false, String(err));
      assert.equal(toStoreError(err), err);
    }
    const ours = new WrongExpectedRevisionError('s', 'any', 1);
    assert.equal(toStoreError(ours), ours);
  });

  test('a call on a channel closed under the client is unavailable, not a bug', () => {
    const shutDown = new Error('Channel has been shut down');
    assert.ok(isUnavailable(shutDown));
    assert.match(String((toStoreError(shutDown) as Error).message), /^event store unavailable: Channel has been shut down/);
  });

  test("NotLeader is recognised, so an append a follower refused is sent again to the leader", () => {
    assert.ok(isNotLeader(Object.assign(Object.create(NotLeaderError.prototype) as object, { type: 'not-leader' })));
    assert.ok(!isNotLeader(new UnavailableError()));
  });

  test('stream-not-found is recognised (readStream turns it into no events)', () => {
    assert.ok(isStreamNotFound(new StreamNotFoundError(undefined, 'otp-9')));
    assert.ok(!isStreamNotFound(new UnavailableError()));
    assert.ok(!isStreamNotFound(new Error('stream-not-found')));
  });
});

describe('server version and deadlines', () => {
  test(`servers from ${MINIMUM_SERVER_VERSION} on are accepted, older ones refused with the minimum named`, () => {
    for (const ok of ['22.10.0.0', '23.10.1', '24.10.0-rc1', '25.0.0', '26.1.0.1234']) assert.equal(serverVersionProblem(ok), undefined, ok);
    for (const old of ['22.6.0.0', '21.10.5', '20.10.2.0']) assert.match(serverVersionProblem(old) ?? '', new RegExp(`${old.replaceAll('.', '\\.')}.*minimum ${MINIMUM_SERVER_VERSION}`));
    assert.match(serverVersionProblem(undefined) ?? '', /predates EventStoreDB 21\.10/);
    assert.equal(serverVersionProblem('unknown'), undefined, 'a version that cannot be read is not held against the server');
  });

  test('the server is given a deadline below the local bound, so its Timeout comes first', () => {
    for (const local of [1, 50, 800, 1500, 5000, 60_000]) {
      const d = serverDeadlineMs(local);
      assert.ok(d >= 1 && (d < local || local === 1), `${local} -> ${d}`);
    }
    assert.equal(serverDeadlineMs(5000), 4000);
  });
});
