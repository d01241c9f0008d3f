// The write side as the application services use it: commands appended with their personal
// fields sealed, streams folded with them opened (src/privacy/personal-data.ts). The composition
// root makes the one EventLog, so no service can forget the codec.
import type { Decider, Message } from '../domain/decider.ts';
import { type CommandResult, type EventCodec, handleCommand, loadState } from '../eventstore/handle-command.ts';
import type { EventMetadata, EventStore, StoredEvent } from '../eventstore/port.ts';
import type { StreamSnapshots } from '../eventstore/stream-snapshots.ts';

export type EventLog = {
  /** handleCommand: decide on the stream's state, append sealed with the expected revision. */
  handle: <C extends Message, E extends Message, S>(
    stream: string,
    decider: Decider<C, E, S>,
    command: C,
    /** newStream: named after an id just drawn at random, so not read first (handleCommand). */
    opts?: { metadata?: EventMetadata; maxRetries?: number; newStream?: boolean },
  ) => Promise<CommandResult<E, S>>;
  /** The stream folded by the decider (personal fields opened). */
  load: <E extends Message, S>(stream: string, decider: Pick<Decider<Message, E, S>, 'initialState' | 'evolve' | 'snapshotVersion'>) => Promise<{ state: S; revision: number }>;
  /** The stream's events, personal fields opened ("[erased]" where a key was destroyed). */
  read: (stream: string) => Promise<StoredEvent[]>;
  /** The store itself: what it holds, as stored. */
  store: EventStore;
};

/** snapshots: where long streams' folded states are kept (the server's; the admin CLI has none). */
export const createEventLog = (store: EventStore, codec: EventCodec, snapshots?: StreamSnapshots): EventLog => ({
  handle: (stream, decider, command, opts = {}) => handleCommand(store, stream, decider, command, { ...opts, codec, snapshots }),
  load: (stream, decider) => loadState(store, stream, decider, codec, snapshots),
  read: async (stream) => (await store.readStream(stream)).map(codec.open),
  store,
});
