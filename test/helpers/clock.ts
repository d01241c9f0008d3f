// A clock for a server under test: it runs with real time (timeouts, leases and sockets keep
// working) and a test moves it forward instead of sleeping.
export type TestClock = { now: () => number; advance: (ms: number) => void };

/** startOffsetMs: where the clock starts relative to real time (negative: in the past, so that
 * moving it forward spreads events over past hours). */
export const createTestClock = (startOffsetMs = 0): TestClock => {
  let offset = startOffsetMs;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      if (!(ms >= 0)) throw new RangeError(`a clock only moves forward, got ${ms} ms`);
      offset += ms;
    },
  };
};
