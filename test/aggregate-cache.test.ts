import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DomainError } from '../src/domain/errors.ts';
import { type OtpCommand, otpDecider } from '../src/domain/otp/index.ts';
import { handleCommand, loadState } from '../src/eventstore/handle-command.ts';
import type { EventStore } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';

// Two stores on one file stand for two server processes: each has its own aggregate cache.
const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const processes = async (n: number) => {
  const dir = await mkdtemp(join(tmpdir(), 'securekey-cache-'));
  dirs.push(dir);
  const path = join(dir, 'events.db');
  return Array.from({ length: n }, () => createSqliteEventStore({ path }));
};
const twoProcesses = async () => {
  const [a, b] = await processes(2);
  return [a!, b!] as const;
};

const STREAM = 'otp-tn_cache.sms.destinationhash';
const ref = { otpId: 'otp-1', channel: 'sms' as const, purpose: 'login', userId: null, masked: '+82 10-****-0000', country: 'KR' };
const issue = (codeHash: string, otpId = 'otp-1'): OtpCommand => ({
  type: 'IssueOtp',
  data: { ...ref, otpId, codeHash, requester: 'requester-hash', destinationEnc: 'enc', now: Date.now(), policy: { ttlSeconds: 600, maxAttempts: 5, resendCooldownSeconds: 0 }, caps: { perRequesterHour: 0, perRequesterDay: 0, burst: 0 } },
});
const verify = (candidateHash: string): OtpCommand => ({ type: 'VerifyOtp', data: { candidateHash, now: Date.now() } });
const run = (store: EventStore, c: OtpCommand) => handleCommand(store, STREAM, otpDecider, c);
const types = async (store: EventStore) => (await store.readStream(STREAM)).map((e) => e.type);

test('a decision on a cached state that another process has moved on is taken again on the log: a code is used once', async () => {
  const [a, b] = await twoProcesses();
  try {
    await run(a, issue('right'));
    await run(a, verify('wrong')); // A now holds the stream's state in its cache
    assert.ok((await run(b, verify('right'))).events.some((e) => e.type === 'OtpVerified'));
    // A's cached state still has the code pending; the append's expected revision catches it.
    await assert.rejects(run(a, verify('right')), DomainError);
    assert.equal((await types(a)).filter((t) => t === 'OtpVerified').length, 1);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('a refusal decided on a cached state is checked against the log before it is answered', async () => {
  const [a, b] = await twoProcesses();
  try {
    await run(a, issue('first'));
    await run(a, verify('first')); // A's cache: no code pending
    await run(b, issue('second', 'otp-2'));
    const r = await run(a, verify('second'));
    assert.ok(r.events.some((e) => e.type === 'OtpVerified'), 'A saw the code B issued');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('a read through the cache includes what another process appended since', async () => {
  const [a, b] = await twoProcesses();
  try {
    await run(a, issue('right'));
    const before = await loadState(a, STREAM, otpDecider);
    await run(b, verify('wrong'));
    const now = await loadState(a, STREAM, otpDecider);
    assert.equal(now.revision, before.revision + 1);
    assert.notDeepEqual(now.state, before.state);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

/** The store, counting its stream reads. */
const counting = (store: EventStore) => {
  let reads = 0;
  return { store: { ...store, readStream: (...a: Parameters<EventStore['readStream']>) => (reads++, store.readStream(...a)) }, reads: () => reads };
};

test('a command on a new stream (named after an id just drawn) is decided without reading it', async () => {
  const [a, b] = await twoProcesses();
  try {
    const { store, reads } = counting(a);
    const r = await handleCommand(store, STREAM, otpDecider, issue('right'), { newStream: true });
    assert.equal(r.revision, 0);
    assert.equal(reads(), 0);
    assert.deepEqual(await types(b), ['OtpIssued']);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('a command told its stream is new, when the stream exists after all, reads it and decides on what is there', async () => {
  const [a, b, c] = (await processes(3)) as [EventStore, EventStore, EventStore];
  try {
    await run(b, issue('first'));
    // An issue decided on the assumed empty stream: its append conflicts, then it is decided on the log.
    const issued = await handleCommand(a, STREAM, otpDecider, issue('second', 'otp-2'), { newStream: true });
    assert.equal(issued.revision, 1);
    // A refusal decided on the assumed empty stream ("no code is pending") is checked against the log.
    const verified = await handleCommand(c, STREAM, otpDecider, verify('second'), { newStream: true });
    assert.ok(verified.events.some((e) => e.type === 'OtpVerified'));
    assert.deepEqual(await types(a), ['OtpIssued', 'OtpIssued', 'OtpVerified']);
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});
