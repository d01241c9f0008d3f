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
