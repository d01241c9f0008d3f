// Emmett-style deciders: decide(command, state) → events; evolve(state, event) → state.
// Both are pure: time, ids and randomness arrive in the command. evolve never throws.

/** A message: events are past tense, commands imperative. */
export type Message<Type extends string = string, Data = unknown> = {
  type: Type;
  data: Data;
  /** Who and where (caller, addresses). evolve and decide never read it: a stream is folded with
   * only its data's personal fields opened (src/eventstore/handle-command.ts). */
  metadata?: Record<string, unknown>;
};

export type Decider<Command extends Message, Event extends Message, State> = {
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  /** Returns the new events; throws DomainError when the command must be refused. */
  decide: (command: Command, state: State) => Event[];
  /** Opts the aggregate in to snapshots of long streams (src/stream-snapshots): its state must
   * be plain JSON data. Bump it whenever evolve or the state's shape changes, so that snapshots
   * folded by the older code are no longer used (test/stream-snapshots-deciders.test.ts pins
   * each opted-in decider's fold of a fixed history to its version). */
  snapshotVersion?: number;
};

/** Exhaustiveness guard for switches over unions. */
export const assertNever = (x: never): never => {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
};
