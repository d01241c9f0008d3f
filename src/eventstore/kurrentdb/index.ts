// The production event store: KurrentDB / EventStoreDB through @kurrent/kurrentdb-client.
// The mappings (revisions, positions, events, errors) live in mapping.ts; see its header for
// how the port's numeric positions relate to KurrentDB's {commit, prepare} positions.
//
// - Appends are atomic per call (one server transaction) and map the expected revision to the
//   client's streamState; a conflict is WrongExpectedRevisionError.
// - readAll, headPosition and subscribeToAll only see non-system events: server-side filters
//   drop the server's own `$`-typed events ($metadata, $>, $statsCollected…).
// - Every call is bounded by `operationTimeoutMs` (ping by `pingTimeoutMs`): an unreachable or
//   silent server gives StoreUnavailableError, never a hang. The client itself has no bound on
//   some calls (its server-features probe before the first append has no deadline), so when an
//   append times out we close its gRPC channel: the stuck calls fail and the client opens a new
//   channel on the next call. An append that timed out may still have been written; the caller
//   retries with the same expected revision (and event ids), so it cannot be written twice.
// - A subscription is one server-side catch-up-then-live subscription to $all; it throws
//   StoreUnavailableError when the connection is lost, and the caller resubscribes from its
//   checkpoint.
import {
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
import { type EventStore, type StoredEvent, type SubscribeOptions, StoreUnavailableError } from '../port.ts';
import { closeChannel } from './client.ts';
import {
  type ResolvedLike,
  describeError,
  fromCurrentState,
  isStreamNotFound,
  isUnavailable,
  toEventData,
  toKurrentPosition,
  toPortPosition,
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

export const createKurrentDbEventStore = (opts: KurrentDbEventStoreOptions): EventStore => {
  const operationTimeoutMs = opts.operationTimeoutMs ?? 5000;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 2000;
  const client = KurrentDBClient.connectionString(opts.connectionString);
  let closed = false;
  let usedGrpc = false; // appends and subscriptions use gRPC; reads use the client's native bridge
  const liveSubscriptions = new Set<() => void>();

  const closedError = () => new StoreUnavailableError('event store unavailable: the store is closed');

  /** Runs `op`, failing with StoreUnavailableError when it takes longer than `ms`. */
  const bounded = <T>(what: string, ms: number, op: () => Promise<T>, onTimeout?: () => void): Promise<T> => {
    if (closed) return Promise.reject(closedError());
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new StoreUnavailableError(`event store unavailable: ${what} did not complete within ${ms} ms`));
        onTimeout?.();
      }, ms);
      Promise.resolve()
        .then(op)
        .then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (err) => {
            clearTimeout(timer);
            reject(err);
          },
        );
    });
  };

  const readAllRaw = (what: string, options: Parameters<KurrentDBClient['readAll']>[0]) =>
    bounded(what, operationTimeoutMs, () => collect(client.readAll(options) as AsyncIterable<ResolvedLike>));

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

  async function* subscribe({ fromPosition, typePrefixes, signal }: SubscribeOptions): AsyncGenerator<StoredEvent> {
    if (closed) throw closedError();
    if (!isRevision(fromPosition)) throw new TypeError(`fromPosition must be an integer >= 0, got ${String(fromPosition)}`);
    const filter = typePrefixes && typePrefixes.length > 0 ? eventTypeFilter({ prefixes: typePrefixes }) : excludeSystemEvents();
    let last = fromPosition;
    let start = fromPosition;
    let retried = false;
    for (;;) {
      if (signal?.aborted || closed) return;
      usedGrpc = true;
      const sub = client.subscribeToAll({ fromPosition: toKurrentPosition(start), filter }) as unknown as ClientSubscription;
      const { events, wake } = drainSubscription<ResolvedLike>(sub, { stopped: () => closed || signal?.aborted === true, confirmMs: operationTimeoutMs });
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
      usedGrpc = true;
      return bounded('append', operationTimeoutMs, () => client.appendToStream(stream, data, { streamState, deadline: operationTimeoutMs }), () => void closeChannel(client)).then(
        (r) => ({ nextExpectedRevision: fromCurrentState(r.nextExpectedRevision), position: toPortPosition(r.position) }),
        (err: unknown) => Promise.reject(toStoreError(err, { stream, expected: expectedRevision })),
      );
    },

    readStream: async (stream, { fromRevision = 0, maxCount } = {}) => {
      if (typeof stream !== 'string' || stream === '') throw new TypeError('stream name must be a non-empty string');
      if (!isRevision(fromRevision)) throw new TypeError(`fromRevision must be an integer >= 0, got ${String(fromRevision)}`);
      if (maxCount !== undefined && !isRevision(maxCount)) throw new TypeError(`maxCount must be an integer >= 0, got ${String(maxCount)}`);
      if (maxCount === 0) return [];
      try {
        return await bounded('readStream', operationTimeoutMs, () =>
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
      try {
        await bounded('ping', pingTimeoutMs, () => collect(client.readAll({ fromPosition: END, maxCount: 1, direction: BACKWARDS }) as AsyncIterable<ResolvedLike>));
      } catch (err) {
        const mapped = toStoreError(err);
        throw mapped instanceof StoreUnavailableError ? mapped : new StoreUnavailableError(`event store unavailable: ${describeError(err)}`, { cause: err });
      }
    },

    close: async () => {
      if (closed) return;
      closed = true;
      for (const wake of liveSubscriptions) wake();
      await client.dispose().catch(() => {});
      if (usedGrpc) await closeChannel(client);
    },
  };
};
