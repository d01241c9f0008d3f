// Pure mappings between the event store port and @kurrent/kurrentdb-client: expected revisions,
// positions, events and errors. No I/O here, so all of it is unit-tested without a server.
//
// Positions. KurrentDB positions are {commit, prepare} byte offsets in the transaction log. Every
// event written through the gRPC API is its own (implicit) transaction, so its commit and prepare
// positions are equal and unique per event. The port's `position` is the commit position as a
// Number: exact while the log is under 2^53 bytes (8 PiB), checked on every conversion. Back to
// the client it is {commit: n, prepare: n}, a valid read position for the event at n; 0 is START.
// Reads and subscriptions from n include the event at n on the server side, so the adapter drops
// positions <= n to make `fromPosition` exclusive as the port requires.
import { randomUUID } from 'node:crypto';
import {
  ANY,
  type AppendStreamState,
  type CurrentStreamState,
  type EventData,
  type Position,
  type ReadPosition,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  jsonEvent,
} from '@kurrent/kurrentdb-client';
import {
  type EventMetadata,
  type ExpectedRevision,
  type NewEvent,
  type StoredEvent,
  StoreUnavailableError,
  WrongExpectedRevisionError,
} from '../port.ts';
import { checkEventType } from '../event-type.ts';

const isRevision = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

// ── expected revision ↔ streamState ─────────────────────────────────────────────────────────
export const toStreamState = (expected: ExpectedRevision): AppendStreamState => {
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  if (expected === 'any') return ANY;
  if (isRevision(expected)) return BigInt(expected);
  throw new TypeError(`expected revision must be 'no_stream', 'stream_exists', 'any' or an integer >= 0, got ${String(expected)}`);
};

const toSafeNumber = (n: bigint, what: string): number => {
  if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${what} ${n} is outside the safe integer range`);
  return Number(n);
};

export const fromStreamState = (state: AppendStreamState): ExpectedRevision => {
  if (state === NO_STREAM || state === STREAM_EXISTS || state === ANY) return state;
  return toSafeNumber(state, 'stream revision');
};

/** The revision of a stream's last event as the port counts it: -1 when the stream does not exist. */
export const fromCurrentState = (state: CurrentStreamState): number =>
  state === NO_STREAM ? -1 : toSafeNumber(state, 'stream revision');

// ── server version and deadlines ────────────────────────────────────────────────────────────
/** The oldest server SecureKey supports: stream reads report log positions from EventStoreDB 22.6
 * on (22.10 is the LTS release that has it), persistent subscriptions to $all with server-side
 * filters and group info from 21.10, filtered $all subscriptions from 20.10. KurrentDB 25.x and
 * later qualify. */
export const MINIMUM_SERVER_VERSION = '22.10';

/** Why the server is refused, or undefined. version: as ServerFeatures reports it (e.g.
 * "24.10.1.0", "25.0.0-rc1"); undefined when the server has no ServerFeatures service (before
 * 21.10). A version that cannot be read is given the benefit of the doubt. */
export const serverVersionProblem = (version: string | undefined): string | undefined => {
  if (version === undefined) return `the server predates EventStoreDB 21.10 (the minimum is ${MINIMUM_SERVER_VERSION})`;
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return undefined;
  const [major, minor] = MINIMUM_SERVER_VERSION.split('.').map(Number);
  const [v1, v2] = [Number(m[1]), Number(m[2])];
  if (v1 > major || (v1 === major && v2 >= minor)) return undefined;
  return `the server runs version ${version}, older than the minimum ${MINIMUM_SERVER_VERSION}`;
};

/** The deadline given to the server for an operation bounded locally by `localMs`: a fifth less,
 * so that a slow server answers Timeout before our own bound fires (which, having no answer at
 * all, must assume the connection is stuck and replace it). */
export const serverDeadlineMs = (localMs: number): number => Math.max(1, Math.floor(localMs * 0.8));

// ── positions ───────────────────────────────────────────────────────────────────────────────
// The server sends 2^64-1 (-1 as unsigned) when it does not know a position.
const UNKNOWN = 2n ** 63n;

/** The port's position for a client position; undefined when the server did not know it. */
export const knownPortPosition = (pos: Partial<Position> | undefined): number | undefined => {
  const commit = pos?.commit;
  const prepare = pos?.prepare;
  const known = typeof commit === 'bigint' && commit >= 0n && commit < UNKNOWN ? commit
    : typeof prepare === 'bigint' && prepare >= 0n && prepare < UNKNOWN ? prepare
    : undefined;
  return known === undefined ? undefined : toSafeNumber(known, 'log position');
};

export const toPortPosition = (pos: Partial<Position> | undefined): number => {
  const known = knownPortPosition(pos);
  if (known === undefined) {
    throw new Error(`the event store returned an event without a log position: servers before EventStoreDB 22.6 do not report positions on stream reads (SecureKey needs ${MINIMUM_SERVER_VERSION} or later)`);
  }
  return known;
};

export const toKurrentPosition = (position: number): ReadPosition => {
  if (!isRevision(position)) throw new TypeError(`a position must be an integer >= 0, got ${String(position)}`);
  if (position === 0) return START;
  const p = BigInt(position);
  return { commit: p, prepare: p };
};

// ── events ──────────────────────────────────────────────────────────────────────────────────
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** A plain-JSON copy, so the client cannot fail while it is already writing (its serializer
 * runs inside a stream callback where an exception would be lost). Throws TypeError. */
const jsonCopy = (value: Record<string, unknown>, what: string): Record<string, unknown> => {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new TypeError(`event ${what} is not serializable as JSON: ${(err as Error).message}`);
  }
  return JSON.parse(text) as Record<string, unknown>;
};

export const toEventData = (e: NewEvent, newId: () => string = randomUUID): EventData => {
  checkEventType(e?.type);
  if (!isPlainObject(e.data)) throw new TypeError(`event ${e.type} needs an object as data`);
  if (e.metadata !== undefined && !isPlainObject(e.metadata)) throw new TypeError(`event ${e.type} needs an object as metadata`);
  const id = e.id ?? newId();
  if (!UUID.test(id)) throw new TypeError(`event ${e.type} has an id that is not a UUID`);
  return jsonEvent({
    id,
    type: e.type,
    data: jsonCopy(e.data, 'data'),
    ...(e.metadata === undefined ? {} : { metadata: jsonCopy(e.metadata, 'metadata') }),
  });
};

/** The part of a client ResolvedEvent the port needs (both the read and the subscription shapes). */
export type ResolvedLike = {
  event?: {
    streamId: string;
    id: string;
    type: string;
    revision: bigint;
    created: Date;
    data: unknown;
    metadata?: unknown;
    position?: Position;
  } | null;
  commitPosition?: bigint | null;
};

/** undefined for entries without an event (unresolved links). Events not written by SecureKey
 * (binary, or JSON that is not an object) come back with data {}. */
export const toStoredEvent = (resolved: ResolvedLike): StoredEvent | undefined => {
  const e = resolved.event;
  if (!e) return undefined;
  const position = e.position ?? (typeof resolved.commitPosition === 'bigint' ? { commit: resolved.commitPosition, prepare: resolved.commitPosition } : undefined);
  return {
    id: e.id,
    type: e.type,
    data: isPlainObject(e.data) ? e.data : {},
    metadata: isPlainObject(e.metadata) ? (e.metadata as EventMetadata) : {},
    streamName: e.streamId,
    revision: toSafeNumber(e.revision, 'stream revision'),
    position: toPortPosition(position),
    recordedAt: e.created,
  };
};

// ── errors ──────────────────────────────────────────────────────────────────────────────────
type ClientErrorLike = { type?: unknown; code?: unknown; name?: unknown; message?: unknown };

const errorType = (err: unknown): unknown => (err as ClientErrorLike | null)?.type;

/** The client's WrongExpectedVersionError (checked by its `type` tag, so any copy of it counts). */
export const isWrongExpectedVersion = (err: unknown): err is { streamName: string; expectedState: AppendStreamState; actualState: CurrentStreamState } =>
  errorType(err) === 'wrong-expected-version';

export const isStreamNotFound = (err: unknown): boolean => errorType(err) === 'stream-not-found';

/** A follower refused a leader-only call (nothing was written); the client's next call goes to the
 * leader it named. */
export const isNotLeader = (err: unknown): boolean => errorType(err) === 'not-leader';

// gRPC status codes that mean "the server cannot be reached or did not answer in time".
const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
const UNREACHABLE_TYPES = new Set(['unavailable', 'deadline-exceeded', 'timeout', 'cancelled', 'not-leader']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** grpc-js's error for a call on a closed channel (a client whose channel was closed under it). */
export const isChannelShutDown = (err: unknown): boolean => (err as ClientErrorLike | null)?.message === 'Channel has been shut down';

/** True when the error means the store is unreachable or unresponsive (the caller may retry
 * later), as opposed to a bug or a refusal. Covers the client's UnavailableError (reads),
 * plain gRPC errors with code 14 (appends), deadlines, a leader change, failed discovery and a
 * closed channel. */
export const isUnavailable = (err: unknown): boolean => {
  if (err instanceof StoreUnavailableError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as ClientErrorLike;
  if (typeof e.type === 'string' && UNREACHABLE_TYPES.has(e.type)) return true;
  if (typeof e.code === 'number' && [GRPC_CANCELLED, GRPC_DEADLINE_EXCEEDED, GRPC_UNAVAILABLE].includes(e.code)) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  return typeof e.message === 'string' && (/^Failed to discover after \d+ attempts/.test(e.message) || isChannelShutDown(err));
};

export const describeError = (err: unknown): string => {
  const e = err as ClientErrorLike | null;
  const text = typeof e?.message === 'string' && e.message ? e.message : typeof e?.name === 'string' ? e.name : String(err);
  return text.split('\n')[0].slice(0, 200);
};

/** The port's error for a client error: WrongExpectedRevisionError for a conflict (with the
 * append's stream and expected revision when given), StoreUnavailableError when the server
 * cannot be reached; anything else is returned unchanged. */
export const toStoreError = (err: unknown, append?: { stream: string; expected: ExpectedRevision }): unknown => {
  if (err instanceof WrongExpectedRevisionError || err instanceof StoreUnavailableError) return err;
  if (isWrongExpectedVersion(err)) {
    const stream = append?.stream ?? err.streamName;
    const expected = append?.expected ?? fromStreamState(err.expectedState);
    return new WrongExpectedRevisionError(stream, expected, fromCurrentState(err.actualState));
  }
  if (isUnavailable(err)) return new StoreUnavailableError(`event store unavailable: ${describeError(err)}`, { cause: err });
  return err;
};
