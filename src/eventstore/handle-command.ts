// The write side's one path: read the stream, fold it, decide, append with the expected
// revision. A concurrent writer makes the append fail; we re-read and decide again, a bounded
// number of times, so two racing commands are linearized by the store.
import type { Decider, Message } from '../domain/decider.ts';
import { DomainError } from '../domain/errors.ts';
import { chainEvents, linkHashOf } from './chain.ts';
import { toRecorded } from './recorded.ts';
import { type EventMetadata, type EventStore, type StoredEvent, WrongExpectedRevisionError } from './port.ts';

export type CommandResult<E extends Message, S> = {
  /** Events this command appended (empty when the decider decided nothing). */
  events: E[];
  /** State after the new events. */
  state: S;
  /** Revision of the stream's last event (-1: no stream). */
  revision: number;
  /** Global position of the last appended event, or 0 when nothing was appended. */
  position: number;
};

/** The stream's events folded by its decider. Streams are named per aggregate and only that
 * aggregate's decider appends to them, so the catalogue events found there are E's; types this
 * version does not know are skipped (evolve would ignore them). */
export const foldStream = <E extends Message, S>(decider: Pick<Decider<Message, E, S>, 'initialState' | 'evolve'>, events: StoredEvent[]): S =>
  events.reduce((s, stored) => {
    const e: Message | undefined = toRecorded(stored);
    return e ? decider.evolve(s, e as E) : s;
  }, decider.initialState());

export const loadState = async <E extends Message, S>(store: EventStore, stream: string, decider: Pick<Decider<Message, E, S>, 'initialState' | 'evolve'>) => {
  const events = await store.readStream(stream);
  return { state: foldStream(decider, events), revision: events.length - 1, events };
};

export const handleCommand = async <C extends Message, E extends Message, S>(
  store: EventStore,
  stream: string,
  decider: Decider<C, E, S>,
  command: C,
  opts: { metadata?: EventMetadata; maxRetries?: number } = {},
): Promise<CommandResult<E, S>> => {
  const maxRetries = opts.maxRetries ?? 20;
  for (let attempt = 0; ; attempt++) {
    const { state, revision, events: history } = await loadState(store, stream, decider);
    const events = decider.decide(command, state);
    if (events.length === 0) return { events, state, revision, position: 0 };
    try {
      // Tamper evidence: each event is hash-linked to the previous one of its stream (chain.ts).
      const chained = chainEvents(
        stream,
        revision + 1,
        linkHashOf(history[history.length - 1]),
        events.map((e) => ({ type: e.type, data: e.data as Record<string, unknown>, metadata: { ...opts.metadata, ...e.metadata } })),
      );
      const res = await store.appendToStream(stream, chained, { expectedRevision: revision === -1 ? 'no_stream' : revision });
      return { events, state: events.reduce(decider.evolve, state), revision: res.nextExpectedRevision, position: res.position };
    } catch (err) {
      if (!(err instanceof WrongExpectedRevisionError)) throw err;
      if (attempt >= maxRetries) throw new DomainError('CONFLICT', 'too many concurrent changes to the same resource; retry the request');
      // Back off a little, with jitter, so a crowd of racers does not retry in lockstep.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
    }
  }
};
