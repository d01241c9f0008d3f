// The write side's one path: fold the stream, decide, append with the expected revision. A
// concurrent writer makes the append fail; we re-read and decide again, a bounded number of
// times, so two racing commands are linearized by the store. A codec (src/privacy) seals the new
// events' personal fields before the chain is computed, so the chain covers what is stored, and
// opens them when a stream is folded, so deciders see clear values.
import { randomUUID } from 'node:crypto';
import type { Decider, Message } from '../domain/decider.ts';
import { DomainError } from '../domain/errors.ts';
import { chainEvents, GENESIS_HASH, linkHashOf } from './chain.ts';
import { toRecorded } from './recorded.ts';
import { createLru, type Lru } from '../lru.ts';
import { type EventData, type EventMetadata, type EventStore, type NewEvent, type StoredEvent, WrongExpectedRevisionError } from './port.ts';
import type { StreamSnapshot, StreamSnapshots } from './stream-snapshots.ts';

/** Seals events about to be appended (each has its id: the seal is bound to it), opens stored ones. */
export type EventCodec = {
  seal: (events: readonly (NewEvent & { id: string; data: EventData; metadata: EventMetadata })[]) => NewEvent[];
  open: (event: StoredEvent) => StoredEvent;
  /** Opens only the data's fields: what a stream is folded with (deciders never read metadata). */
  openData: (event: StoredEvent) => StoredEvent;
  /** Moves whenever a key is destroyed in this process: what was opened before may now read [erased]. */
  epoch: () => number;
};

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
export const foldStream = <E extends Message, S>(decider: Pick<Decider<Message, E, S>, 'initialState' | 'evolve'>, events: StoredEvent[], from: S = decider.initialState()): S =>
  events.reduce((s, stored) => {
    const e: Message | undefined = toRecorded(stored);
    return e ? decider.evolve(s, e as E) : s;
  }, from);

/** The last folded state of each stream this process has loaded or written, per store: a command
 * then reads only the events appended since (usually none: one indexed query, nothing to parse or
 * fold) instead of its whole stream. Every load still asks the store for newer events, so a state
 * is never older than the log at that moment, even when other processes append to the same file;
 * the append's expected revision settles any race after it, as before. Bounded, least recently
 * used first out. States are immutable (deciders are pure), so sharing them is safe. A state is
 * folded from opened events, so it holds personal values in clear: once a key is destroyed (the
 * codec's epoch moves) every state is folded again from the log, where they now read [erased]. */
type Cached = { decider: object; codec: EventCodec | undefined; epoch: number; state: unknown; revision: number; lastHash: string; checkedAt: number };
const aggregates = new WeakMap<EventStore, Lru<string, Cached>>();
const MAX_CACHED_STREAMS = 10_000;

const cacheOf = (store: EventStore) => {
  let m = aggregates.get(store);
  if (!m) aggregates.set(store, (m = createLru(MAX_CACHED_STREAMS)));
  return m;
};

const remember = (store: EventStore, stream: string, entry: Cached) => {
  const m = cacheOf(store);
  const current = m.peek(stream);
  if (current && current.decider === entry.decider && current.codec === entry.codec && current.epoch === entry.epoch && current.revision > entry.revision) return; // a later write got there first
  m.set(stream, entry); // the most recently used
};

/** Where a load starts: the cached state, a snapshot, or nothing (the whole stream). */
type Base = { state: unknown; revision: number; lastHash: string };

/** The events to fold and the state to fold them on. Without a cached state, a snapshot of the
 * stream (stream-snapshots.ts) is tried: the events from its revision are read, and the first one
 * must still carry the snapshot's link hash; otherwise, the whole stream. */
const readFrom = async (store: EventStore, stream: string, cached: Base | undefined, snapshot: StreamSnapshot | undefined, snapshots: StreamSnapshots | undefined) => {
  if (cached) {
    const events = await store.readStream(stream, { fromRevision: cached.revision + 1 });
    // Not a continuation (cannot happen in an append-only log): fold it all.
    if (events.length === 0 || events[0]!.revision === cached.revision + 1) return { events, from: cached, snapshot: undefined };
  } else if (snapshot) {
    const events = await store.readStream(stream, { fromRevision: snapshot.revision });
    const at = events[0];
    if (at && at.revision === snapshot.revision && linkHashOf(at) === snapshot.linkHash) {
      return { events: events.slice(1), from: { state: snapshot.state, revision: snapshot.revision, lastHash: snapshot.linkHash }, snapshot };
    }
    snapshots?.drop(stream); // the log differs from what it was folded from
  }
  return { events: await store.readStream(stream), from: undefined, snapshot: undefined };
};

/** The stream folded by its decider: the cached state brought up to date with the events appended
 * since, or the stream's snapshot brought up to date, or the whole stream. A load that folded at
 * least `snapshots.minEvents` events leaves a snapshot (for deciders with a snapshotVersion, and
 * with the codec only: snapshots are sealed with the data keys the codec opened values with).
 * `lastHash` links the next event to the chain (chain.ts). */
export const loadState = async <E extends Message, S>(
  store: EventStore,
  stream: string,
  decider: Pick<Decider<Message, E, S>, 'initialState' | 'evolve' | 'snapshotVersion'>,
  codec?: EventCodec,
  snapshots?: StreamSnapshots,
) => {
  const cached = cacheOf(store).peek(stream);
  const epoch = codec?.epoch() ?? 0;
  const base = cached?.decider === decider && cached.codec === codec && cached.epoch === epoch ? cached : undefined;
  const version = decider.snapshotVersion;
  const snapshotsOf = codec && version !== undefined ? snapshots : undefined;
  const { events, from, snapshot } = await readFrom(store, stream, base, base ? undefined : snapshotsOf?.get(stream, version!), snapshotsOf);
  const last = events[events.length - 1];
  const entry: Cached = {
    decider,
    codec,
    epoch,
    state: foldStream(decider, codec ? events.map(codec.openData) : events, from ? (from.state as S) : decider.initialState()),
    revision: last ? last.revision : (from?.revision ?? -1),
    lastHash: last ? linkHashOf(last) : (from?.lastHash ?? GENESIS_HASH),
    checkedAt: performance.now(),
  };
  remember(store, stream, entry); // an absent stream too (-1): a later append expects no_stream
  if (snapshotsOf && events.length >= snapshotsOf.minEvents && entry.lastHash !== GENESIS_HASH) {
    snapshotsOf.put(stream, version!, { revision: entry.revision, linkHash: entry.lastHash, state: entry.state, epoch }, events, snapshot);
  }
  return { state: entry.state as S, revision: entry.revision, lastHash: entry.lastHash, epoch };
};

/** The cached state of a stream for this decider, as last seen (maybe stale: see handleCommand). */
const peek = <S>(store: EventStore, stream: string, decider: object, codec: EventCodec | undefined) => {
  const c = aggregates.get(store)?.peek(stream);
  return c && c.decider === decider && c.codec === codec && c.epoch === (codec?.epoch() ?? 0)
    ? { state: c.state as S, revision: c.revision, lastHash: c.lastHash, epoch: c.epoch, checkedAt: c.checkedAt }
    : undefined;
};

/** loadState for a read that may lag the log by `maxAgeMs`: a state this process read from the
 * log, or appended to it, less than that long ago is answered without asking the store. Only for
 * streams a request reads but does not write (the MFA policies on every verification): a change
 * this process makes is seen at once (its append refreshes the cache), one made by another process
 * (the admin CLI, another node) within maxAgeMs. */
export const loadRecent = async <E extends Message, S>(store: EventStore, stream: string, decider: Pick<Decider<Message, E, S>, 'initialState' | 'evolve'>, maxAgeMs: number) => {
  const c = peek<S>(store, stream, decider, undefined);
  const { state, revision } = c && performance.now() - c.checkedAt < maxAgeMs ? c : await loadState(store, stream, decider);
  return { state, revision };
};

/** Decides on the cached state without reading the stream: the append's expected revision is the
 * check (another process's append makes it conflict: reload, decide again). A decision that
 * appends nothing (or refuses) would not be checked that way, so it is taken again on the state
 * read from the log before it is answered. */
export const handleCommand = async <C extends Message, E extends Message, S>(
  store: EventStore,
  stream: string,
  decider: Decider<C, E, S>,
  command: C,
  opts: { metadata?: EventMetadata; maxRetries?: number; codec?: EventCodec; newStream?: boolean; snapshots?: StreamSnapshots } = {},
): Promise<CommandResult<E, S>> => {
  const maxRetries = opts.maxRetries ?? 20;
  // newStream: the stream is named after an id the caller has just drawn at random (a push
  // request, a sign-in challenge), so it cannot exist yet: it is decided on as empty without a
  // read, like a cached state. Should it exist after all, its append conflicts and it is read.
  const assumed = opts.newStream ? { state: decider.initialState(), revision: -1, lastHash: GENESIS_HASH, epoch: opts.codec?.epoch() ?? 0 } : undefined;
  let current: { state: S; revision: number; lastHash: string; epoch: number } | undefined = peek<S>(store, stream, decider, opts.codec) ?? assumed;
  let checked = current === undefined; // read from the log just now (not only cached)
  current ??= await loadState(store, stream, decider, opts.codec, opts.snapshots);
  for (let attempt = 0; ; attempt++) {
    const { state, revision, lastHash, epoch } = current;
    let events: E[];
    try {
      events = decider.decide(command, state);
    } catch (err) {
      if (checked) throw err;
      current = await loadState(store, stream, decider, opts.codec, opts.snapshots);
      checked = true;
      continue;
    }
    if (events.length === 0) {
      if (checked) return { events, state, revision, position: 0 };
      current = await loadState(store, stream, decider, opts.codec, opts.snapshots);
      checked = true;
      continue;
    }
    try {
      const fresh = events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data as EventData, metadata: { ...opts.metadata, ...e.metadata } }));
      // Tamper evidence: each event is hash-linked to the previous one of its stream (chain.ts),
      // over what is stored (personal fields sealed).
      const chained = chainEvents(stream, revision + 1, lastHash, opts.codec ? opts.codec.seal(fresh) : fresh);
      const res = await store.appendToStream(stream, chained, { expectedRevision: revision === -1 ? 'no_stream' : revision });
      const after = events.reduce(decider.evolve, state);
      remember(store, stream, { decider, codec: opts.codec, epoch, state: after, revision: res.nextExpectedRevision, lastHash: linkHashOf(chained[chained.length - 1]), checkedAt: performance.now() });
      return { events, state: after, revision: res.nextExpectedRevision, position: res.position };
    } catch (err) {
      if (!(err instanceof WrongExpectedRevisionError)) throw err;
      if (attempt >= maxRetries) throw new DomainError('CONFLICT', 'too many concurrent changes to the same resource; retry the request');
      // A racer: back off a little, with jitter, so a crowd of racers does not retry in lockstep.
      // (A cached state that was merely behind is read again at once.)
      if (checked) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      current = await loadState(store, stream, decider, opts.codec, opts.snapshots);
      checked = true;
    }
  }
};
