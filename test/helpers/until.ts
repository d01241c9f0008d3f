// Polling for something asynchronous (a worker, a receiver, another process) to happen.
import assert from 'node:assert/strict';

/** Calls check() every 20 ms until it returns something truthy, and returns that; fails with
 * "<what>: not within <ms> ms" once ms have passed. An assertion thrown by check() fails at once. */
export const until = async <T>(what: string, check: () => T | Promise<T>, ms = 10_000): Promise<T> => {
  const started = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - started > ms) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
