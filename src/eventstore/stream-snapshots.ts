// Snapshots of long streams, as loadState (handle-command.ts) uses them: a cache of a decider's
// folded state at a revision, never the source of truth. A snapshot is used only when it was folded
// by the same decider version and the stream's event at its revision still carries the link hash
// it recorded (chain.ts: the hash covers every earlier event of the stream too); the events after
// it are then folded on top. Anything else (none, unreadable, another version, a log that differs)
// is ignored and the stream folded from the log. Adapter: src/stream-snapshots/sqlite.ts.
import type { StoredEvent } from './port.ts';

export type StreamSnapshot = {
  revision: number;
  /** linkHashOf the stream's event at `revision`. */
  linkHash: string;
  state: unknown;
  /** Bookkeeping of the adapter (which keys sealed it, whose it is), passed back to put. */
  carried: unknown;
};

export type StreamSnapshots = {
  /** A load that folds at least this many events leaves a snapshot of what it folded. */
  minEvents: number;
  /** The stream's snapshot folded by `version`, opened; undefined when there is none it can use. */
  get: (stream: string, version: number) => StreamSnapshot | undefined;
  /** Records the state at `revision` (later, off the caller's path). `folded`: the events, as
   * stored, folded since `base` (the snapshot the load started from, if any); `epoch`: the
   * codec's epoch when they were opened (a key destroyed since: nothing is written). */
  put: (stream: string, version: number, at: { revision: number; linkHash: string; state: unknown; epoch: number }, folded: readonly StoredEvent[], base: StreamSnapshot | undefined) => void;
  /** The stream's snapshot does not match its log: gone. */
  drop: (stream: string) => void;
};
