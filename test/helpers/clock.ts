// A clock for a server under test: it runs with real time (timeouts, leases and sockets keep
// working) and a test moves it forward instead of sleeping.
export type TestClock = { now: () => number; advance: (ms: number) => void };

export const createTestClock = (): TestClock => {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      if (!(ms >= 0)) throw new RangeError(`a clock only moves forward, got ${ms} ms`);
      offset += ms;
    },
  };
};
