// The production event store: KurrentDB / EventStoreDB (22.10 or later: see MINIMUM_SERVER_VERSION
// in mapping.ts) through @kurrent/kurrentdb-client. The mappings (revisions, positions, events,
// errors) live in mapping.ts; see its header for how the port's numeric positions relate to
// KurrentDB's {commit, prepare} positions. The client is held by client.ts's slot.
//
// - Appends are atomic per call (one server transaction) and map the expected revision to the
//   client's streamState; a conflict is WrongExpectedRevisionError, also when the connection
//   string says throwOnAppendFailure=false (the client then answers success: false). An append a
//   follower refuses (NotLeader: nothing was written) is sent once more, to the leader it named,
//   within the same bound. An append answered without a position (an idempotent re-append) gets
//   it by reading its last event back; if even that fails the append still succeeded, and
//   reports position 0 (read-your-writes then does not wait) rather than an error.
// - readAll, headPosition and subscribeToAll only see non-system events: server-side filters
//   drop the server's own `$`-typed events ($metadata, $>, $statsCollected…), which is why no
//   store accepts such types (event-type.ts).
// - Every call is bounded by `operationTimeoutMs` (ping by `pingTimeoutMs`): an unreachable or
//   silent server gives StoreUnavailableError, never a hang. Appends give the server a deadline
//   below that bound, so a slow server answers Timeout first; a call that outlives the bound
//   (no answer at all) replaces the client, since its connection is presumed stuck (client.ts).
//   An append that timed out may still have been written; the caller retries with the same
//   expected revision (and event ids), so it cannot be written twice.
// - ping reads the head of the log (through the client's Rust bridge, like every read) and makes
//   one round trip on the gRPC channel that appends and subscriptions use, and refuses a server
//   older than the minimum version. It only reports: a slow ping does not replace the client.
// - A subscription is one server-side catch-up-then-live subscription to $all; it throws
//   StoreUnavailableError when the connection is lost, and the caller resubscribes from its
//   checkpoint.
import {
  type AppendResult as ClientAppendResult,
  BACKWARDS,
  END,
  FORWARDS,
  KurrentDBClient,
  type EventData,
  type ReadPosition,
  START,
  eventTypeFilter,
  excludeSystemEvents,
} from '@kurrent/kurrentdb-client';
import { type AppendResult, type EventStore, type ExpectedRevision, type StoredEvent, type SubscribeOptions, StoreUnavailableError, WrongExpectedRevisionError } from '../port.ts';
import { createClientSlot, probeChannel } from './client.ts';
import {
  type ResolvedLike,
  describeError,
  fromCurrentState,
  isChannelShutDown,
  isNotLeader,
  isStreamNotFound,
  isUnavailable,
  knownPortPosition,
  serverDeadlineMs,
  serverVersionProblem,
  toEventData,
  toKurrentPosition,
  toStoreError,
  toStoredEvent,
  toStreamState,
} from './mapping.ts';
import { type ClientSubscription, drainSubscription } from './subscription.ts';

export type KurrentDbEventStoreOptions = {
  /** kurrentdb://, kurrent://, esdb:// (or +discover) connection string. */
  connectionString: string;
  /** Upper bound of one append, read or subscription start, in ms. Default 5000. */
  operationTimeoutMs?: number;
  /** Upper bound of ping, in ms. Default 2000. */
  pingTimeoutMs?: number;
};

const PAGE_SIZE = 500;
const SCAN_PAGE_SIZE = 200;

const collect = async (events: AsyncIterable<ResolvedLike>): Promise<StoredEvent[]> => {
  const out: StoredEvent[] = [];
  for await (const resolved of events) {
    const e = toStoredEvent(resolved);
    if (e) out.push(e);
  }
  return out;
};

const isRevision = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const nextMacrotask = () => new Promise<void>((r) => setImmediate(r));

export const createKurrentDbEventStore = (opts: KurrentDbEventStoreOptions): EventStore => {
  const operationTimeoutMs = opts.operationTimeoutMs ?? 5000;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 2000;
  const slot = createClientSlot(() => KurrentDBClient.connectionString(opts.connectionString));
  let closed = false;
  const liveSubscriptions = new Set<() => void>();

  const closedError = () => new StoreUnavailableError('event store unavailable: the store is closed');

  /** Runs `op` on the current client, failing with StoreUnavailableError when it takes longer than
   * `ms`; that client is then replaced (unless `observeOnly`: ping reports, it does not act, so a
   * slow server probed every few seconds does not cost the subscriptions their connection), as it
   * is when its channel turns out to be closed. `channel`: op uses the gRPC channel. */
  const bounded = <T>(what: string, ms: number, op: (client: KurrentDBClient) => Promise<T>, o: { observeOnly?: boolean; channel?: boolean } = {}): Promise<T> => {
    if (closed) return Promise.reject(closedError());
    const client = slot.current({ channel: o.channel });
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new StoreUnavailableError(`event store unavailable: ${what} did not complete within ${ms} ms`));
        if (!o.observeOnly) slot.replace(client);
      }, ms);
      Promise.resolve()
        .then(() => op(client))
        .then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (err) => {
            clearTimeout(timer);
            if (isChannelShutDown(err)) slot.replace(client);
            reject(err);
          },
        );
    });
  };

  const readAllRaw = (what: string, options: Parameters<KurrentDBClient['readAll']>[0]) =>
    bounded(what, operationTimeoutMs, (client) => collect(client.readAll(options) as AsyncIterable<ResolvedLike>));

  /** Events after `after`, reading from `start` (an event position <= after, or 0). */
  const readAllPage = async (start: number, after: number, want: number) => {
    const ask = start === 0 ? want : want + 1; // the event at `start` itself comes back too
    const raw = await readAllRaw('readAll', { fromPosition: toKurrentPosition(start), maxCount: ask, direction: FORWARDS, filter: excludeSystemEvents() });
    return { events: raw.filter((e) => e.position > after).slice(0, want), end: raw.length < ask };
  };

  /** The position of the last event (of any type) at or before `position`, 0 when none. Used when
   * a caller's position is not an event's (say, an event's position minus one): the server
   * refuses to read from such a position. Costs a backwards scan from the head of the log. */
  const eventPositionAtOrBefore = async (position: number): Promise<number> => {
    let from: ReadPosition = END;
    for (;;) {
      const page = await readAllRaw('readAll', { fromPosition: from, maxCount: SCAN_PAGE_SIZE, direction: BACKWARDS });
      const found = page.find((e) => e.position <= position);
      if (found) return found.position;
      if (page.length < SCAN_PAGE_SIZE) return 0;
      const last = BigInt(page[page.length - 1].position);
      from = { commit: last, prepare: last };
    }
  };

  const readAllAfter = async (after: number, want: number) => {
    try {
      return await readAllPage(after, after, want);
    } catch (err) {
      if (after === 0 || closed || isUnavailable(err)) throw err;
      return readAllPage(await eventPositionAtOrBefore(after), after, want);
    }
  };

  /** The stream's event at `revision` (undefined when absent), read through the bridge. */
  const readEventAt = async (stream: string, revision: number | 'last') => {
    const [e] = await bounded('readStream', operationTimeoutMs, (client) =>
      collect(client.readStream(stream, revision === 'last' ? { fromRevision: END, maxCount: 1, direction: BACKWARDS } : { fromRevision: BigInt(revision), maxCount: 1, direction: FORWARDS }) as AsyncIterable<ResolvedLike>),
    );
    return e;
  };

  /** The port's result for what the client's append resolved with. */
  const appendResult = async (r: ClientAppendResult, stream: string, expected: ExpectedRevision): Promise<AppendResult> => {
    if (!r.success) {
      // throwOnAppendFailure=false: a conflict resolves with success: false instead of throwing,
      // and the client's batch append reports the actual revision wrongly (1 for any existing
      // stream), so it is read back.
      const actual = await readEventAt(stream, 'last').then((e) => e?.revision ?? -1, () => (r.nextExpectedRevision >= 0n ? fromCurrentState(r.nextExpectedRevision) : -1));
      throw new WrongExpectedRevisionError(stream, expected, actual);
    }
    const nextExpectedRevision = fromCurrentState(r.nextExpectedRevision);
    const position = knownPortPosition(r.position) ?? (await readEventAt(stream, nextExpectedRevision).then((e) => (e?.revision === nextExpectedRevision ? e.position : 0), () => 0));
    return { nextExpectedRevision, position };
  };

  async function* subscribe({ fromPosition, typePrefixes, signal }: SubscribeOptions): AsyncGenerator<StoredEvent> {
    if (closed) throw closedError();
    if (!isRevision(fromPosition)) throw new TypeError(`fromPosition must be an integer >= 0, got ${String(fromPosition)}`);
    const filter = typePrefixes && typePrefixes.length > 0 ? eventTypeFilter({ prefixes: typePrefixes }) : excludeSystemEvents();
    let last = fromPosition;
    let start = fromPosition;
    let retried = false;
    for (;;) {
      if (signal?.aborted || closed) return;
      const client = slot.current({ channel: true });
      // Unavoidable cast: the client declares its subscription's async iterator without the
      // [Symbol.asyncDispose] that @types/node's Readable requires; at run time it is the Readable
      // with unsubscribe() that drainSubscription reads (ClientSubscription).
      const sub = client.subscribeToAll({ fromPosition: toKurrentPosition(start), filter }) as unknown as ClientSubscription;
      const { events, wake } = drainSubscription<ResolvedLike>(sub, {
        stopped: () => closed || signal?.aborted === true,
        confirmMs: operationTimeoutMs,
        onUnconfirmed: () => slot.replace(client),
      });
      signal?.addEventListener('abort', wake);
      liveSubscriptions.add(wake);
      try {
        for await (const resolved of events) {
          const e = toStoredEvent(resolved);
          if (!e || e.position <= last) continue; // fromPosition is exclusive
          last = e.position;
          yield e;
        }
        return;
      } catch (err) {
        if (isChannelShutDown(err)) slot.replace(client);
        // The server refuses to start from a position that is not an event's: start once more
        // from the nearest event position before it.
        if (!retried && start > 0 && last === fromPosition && !closed && !isUnavailable(err)) {
          retried = true;
          try {
            start = await eventPositionAtOrBefore(fromPosition);
          } catch (err2) {
            throw toStoreError(err2);
          }
          continue;
        }
        throw toStoreError(err);
      } finally {
        signal?.removeEventListener('abort', wake);
        liveSubscriptions.delete(wake);
      }
    }
  }

  return {
    appendToStream: (stream, events, { expectedRevision = 'any' } = {}) => {
      let data: EventData[];
      let streamState: ReturnType<typeof toStreamState>;
      try {
        if (typeof stream !== 'string' || stream === '') throw new TypeError('stream name must be a non-empty string');
        if (!Array.isArray(events) || events.length === 0) throw new TypeError('appendToStream needs at least one event');
        streamState = toStreamState(expectedRevision);
        data = events.map((e) => toEventData(e));
      } catch (err) {
        return Promise.reject(err);
      }
      const startedAt = Date.now();
      const append = (ms: number) => bounded('append', ms, (client) => client.appendToStream(stream, data, { streamState, deadline: serverDeadlineMs(ms) }), { channel: true });
      return append(operationTimeoutMs)
        .catch(async (err: unknown) => {
          const left = operationTimeoutMs - (Date.now() - startedAt);
          if (!isNotLeader(err) || closed || left <= 0) throw err;
          await nextMacrotask(); // the client switches to the leader's address as the call fails
          return append(left);
        })
        .then(
          (r) => appendResult(r, stream, expectedRevision),
          (err: unknown) => Promise.reject(toStoreError(err, { stream, expected: expectedRevision })),
        );
    },

    readStream: async (stream, { fromRevision = 0, maxCount } = {}) => {
      if (typeof stream !== 'string' || stream === '') throw new TypeError('stream name must be a non-empty string');
      if (!isRevision(fromRevision)) throw new TypeError(`fromRevision must be an integer >= 0, got ${String(fromRevision)}`);
      if (maxCount !== undefined && !isRevision(maxCount)) throw new TypeError(`maxCount must be an integer >= 0, got ${String(maxCount)}`);
      if (maxCount === 0) return [];
      try {
        return await bounded('readStream', operationTimeoutMs, (client) =>
          collect(client.readStream(stream, { fromRevision: fromRevision === 0 ? START : BigInt(fromRevision), maxCount: maxCount ?? Number.MAX_SAFE_INTEGER, direction: FORWARDS }) as AsyncIterable<ResolvedLike>),
        );
      } catch (err) {
        if (isStreamNotFound(err)) return [];
        throw toStoreError(err);
      }
    },

    readAll: async ({ fromPosition = 0, maxCount } = {}) => {
      if (!isRevision(fromPosition)) throw new TypeError(`fromPosition must be an integer >= 0, got ${String(fromPosition)}`);
      if (maxCount !== undefined && !isRevision(maxCount)) throw new TypeError(`maxCount must be an integer >= 0, got ${String(maxCount)}`);
      const limit = maxCount ?? Infinity;
      const out: StoredEvent[] = [];
      let after = fromPosition;
      try {
        while (out.length < limit) {
          const { events, end } = await readAllAfter(after, Math.min(PAGE_SIZE, limit - out.length));
          out.push(...events);
          if (end || events.length === 0) break;
          after = events[events.length - 1].position;
        }
      } catch (err) {
        throw toStoreError(err);
      }
      return out;
    },

    subscribeToAll: (o) => subscribe(o),

    headPosition: async () => {
      try {
        const [last] = await readAllRaw('headPosition', { fromPosition: END, maxCount: 1, direction: BACKWARDS, filter: excludeSystemEvents() });
        return last?.position ?? 0;
      } catch (err) {
        throw toStoreError(err);
      }
    },

    ping: async () => {
      let version: string | undefined;
      try {
        [version] = await bounded(
          'ping',
          pingTimeoutMs,
          (client) => Promise.all([probeChannel(client, serverDeadlineMs(pingTimeoutMs)), collect(client.readAll({ fromPosition: END, maxCount: 1, direction: BACKWARDS }) as AsyncIterable<ResolvedLike>)]),
          { observeOnly: true, channel: true },
        );
      } catch (err) {
        const mapped = toStoreError(err);
        throw mapped instanceof StoreUnavailableError ? mapped : new StoreUnavailableError(`event store unavailable: ${describeError(err)}`, { cause: err });
      }
      const problem = serverVersionProblem(version);
      if (problem) throw new StoreUnavailableError(`event store unavailable: ${problem}`);
    },

    close: async () => {
      if (closed) return;
      closed = true;
      for (const wake of liveSubscriptions) wake();
      await slot.close();
    },
  };
};
