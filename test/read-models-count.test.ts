// ReadYourWrites.countBelow: a quota checked on a read model without waiting for it when even every
// event it has not applied yet could not reach the limit, and on the exact count otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createReadYourWrites, type ReadModelFollower } from '../src/app/read-models.ts';
import { DomainError } from '../src/domain/errors.ts';

/** A follower of 'otp-counters' whose checkpoint the test moves (as a projection runner would). */
const setup = (o: { head: number; checkpoint: number; failing?: boolean }) => {
  const state = { ...o, waits: 0 };
  const waiters: (() => void)[] = [];
  const follower: ReadModelFollower = {
    names: () => ['otp-counters'],
    status: () => ({ 'otp-counters': { checkpoint: state.checkpoint, ...(state.failing ? { failure: new Error('boom') } : {}) } }),
    waitFor: (position) => {
      state.waits++;
      if (state.failing) return Promise.reject(new Error('stopped at an error'));
      return state.checkpoint >= position ? Promise.resolve() : new Promise<void>((r) => waiters.push(r));
    },
  };
  const ryw = createReadYourWrites({ headPosition: async () => state.head, followers: [follower], timeoutMs: 5000, log: { warn: () => {} } });
  const catchUp = () => {
    state.checkpoint = state.head;
    for (const w of waiters.splice(0)) w();
  };
  return { state, ryw, catchUp };
};

test('far below the limit, the count plus the unapplied events answers at once, without waiting for the read model', async () => {
  const { state, ryw } = setup({ head: 120, checkpoint: 100 });
  assert.equal(await ryw.countBelow('otp-counters', 1000, () => 7), 27);
  assert.equal(state.waits, 0);
});

test('when the unapplied events could reach the limit, the answer is the exact count once the read model is current', async () => {
  const { state, ryw, catchUp } = setup({ head: 120, checkpoint: 100 });
  let count = 990;
  const answer = ryw.countBelow('otp-counters', 1000, () => count);
  await new Promise((r) => setImmediate(r));
  assert.equal(state.waits, 1, 'it waits');
  count = 1000; // the read model applies the 20 events, ten of them sends
  catchUp();
  assert.equal(await answer, 1000);
});

test('a stopped read model is not trusted for a bound: the call answers UNAVAILABLE as current does', async () => {
  const { ryw } = setup({ head: 120, checkpoint: 119, failing: true });
  await assert.rejects(ryw.countBelow('otp-counters', 1000, () => 0), (e: unknown) => e instanceof DomainError && e.code === 'UNAVAILABLE');
});

test('a count read earlier for the same key answers again, plus every event appended since its checkpoint, without reading the read model', async () => {
  const { state, ryw } = setup({ head: 120, checkpoint: 100 });
  let reads = 0;
  const read = (n: number) => () => (reads++, n);
  assert.equal(await ryw.countBelow('otp-counters', 1000, read(7), 'tn_a/sms/day'), 27);
  state.head = 150;
  state.checkpoint = 140;
  assert.equal(await ryw.countBelow('otp-counters', 1000, read(9), 'tn_a/sms/day'), 57, '7 + the 50 events since checkpoint 100');
  assert.equal(reads, 1);
  assert.equal(await ryw.countBelow('otp-counters', 1000, read(3), 'tn_b/sms/day'), 3 + 10, 'another key is read');
  assert.equal(reads, 2);
  assert.equal(await ryw.countBelow('otp-counters', 1000, read(3)), 13, 'without a key, always read');
  assert.equal(reads, 3);
  assert.equal(state.waits, 0);
});

test('once the remembered count plus the events since could reach the limit, the read model is read again (and remembered)', async () => {
  const { state, ryw } = setup({ head: 120, checkpoint: 100 });
  let reads = 0;
  assert.equal(await ryw.countBelow('otp-counters', 1000, () => (reads++, 7), 'k'), 27);
  state.head = 1200;
  state.checkpoint = 1190;
  assert.equal(await ryw.countBelow('otp-counters', 1000, () => (reads++, 300), 'k'), 310, 'a bound of 7 + 1100 would not do: 300 read at checkpoint 1190');
  assert.equal(reads, 2);
  state.head = 1250;
  assert.equal(await ryw.countBelow('otp-counters', 1000, () => (reads++, 999), 'k'), 360, 'the new count is remembered');
  assert.equal(reads, 2);
});

test('a remembered count is not trusted once the read model is stopped at an error', async () => {
  const { state, ryw } = setup({ head: 120, checkpoint: 100 });
  assert.equal(await ryw.countBelow('otp-counters', 1000, () => 7, 'k'), 27);
  state.failing = true;
  await assert.rejects(ryw.countBelow('otp-counters', 1000, () => 7, 'k'), (e: unknown) => e instanceof DomainError && e.code === 'UNAVAILABLE');
});
