// A store wrapper that fails like an unreachable store while its switch is on.
import { StoreUnavailableError, type EventStore } from '../../src/eventstore/port.ts';

export const createFaultSwitch = () => {
  let down = false;
  const guard = () => {
    if (down) throw new StoreUnavailableError('connection refused (fault injected by the test)');
  };
  return {
    set: (v: boolean) => {
      down = v;
    },
    wrap: (store: EventStore): EventStore => ({
      appendToStream: async (...a) => (guard(), store.appendToStream(...a)),
      readStream: async (...a) => (guard(), store.readStream(...a)),
      readAll: async (...a) => (guard(), store.readAll(...a)),
      headPosition: async () => (guard(), store.headPosition()),
      ping: async () => (guard(), store.ping()),
      close: () => store.close(),
      subscribeToAll: (opts) => ({
        [Symbol.asyncIterator]: () => {
          guard();
          return store.subscribeToAll(opts)[Symbol.asyncIterator]();
        },
      }),
    }),
  };
};
