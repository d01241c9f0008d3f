// Read-your-writes, by name: a command or query waits only for the read models its answer or the
// next decision reads, never for all of them. Before a command appends, the ones it needs must
// be current (else UNAVAILABLE, and nothing is written); after it appended, waiting for its own
// position is bounded and never fails the call: the write happened, so the answer goes out.
import { DomainError } from '../domain/errors.ts';

/** Every read model a call may name. */
export type ReadModelName = 'tenants' | 'audit' | 'otp-counters' | 'otp-stats' | 'mfa-verifications' | 'webhooks' | 'insights';

/** What follows read models (a projection runner): its read models' names, and a wait that
 * rejects when one of them is stopped at an error or does not reach `position` in time. */
export type ReadModelFollower = {
  names: () => string[];
  waitFor: (position: number, timeoutMs: number, names: readonly string[]) => Promise<void>;
  /** Each read model's checkpoint (the last position it applied), and whether it is stopped at an error. */
  status: () => Record<string, { checkpoint: number; failure?: unknown }>;
};

export type ReadYourWrites = {
  /** Resolves once the named read models include every event in the log now; UNAVAILABLE when
   * one of them is stopped at an error or does not catch up in time. Before appending or reading. */
  current: (names: readonly ReadModelName[]) => Promise<void>;
  /** Waits (bounded) until the named read models include `position`. Never throws: a miss is logged. */
  include: (names: readonly ReadModelName[], position: number) => Promise<void>;
  /** A command whose answer (or the caller's next call) reads the named read models: current
   * before it runs, then its own position included. */
  command: <R extends { position: number }>(names: readonly ReadModelName[], run: () => Promise<R>) => Promise<R>;
  /** A count the named read model keeps, which no event raises by more than one (e.g. codes sent
   * today), checked against `limit` without waiting when it can be: read as it is, plus every event
   * of the log it has not applied yet, is below `limit`, then that upper bound is the answer (the
   * true count is below the limit too). Otherwise — near the limit, or the read model stopped — the
   * exact count once it is current (as `current`: UNAVAILABLE when it cannot be).
   * With a `key` naming what `read` counts (e.g. tenant, channel and day), a count read earlier
   * answers again, plus every event appended since its checkpoint: still an upper bound, with no
   * read of the read model (only of the log's head) while it stays below `limit`. */
  countBelow: (name: ReadModelName, limit: number, read: () => number, key?: string) => Promise<number>;
};

/** Counts countBelow remembers (tenants × channels × days): past it, it starts again. */
const MAX_COUNTED = 10_000;

export const createReadYourWrites = (deps: {
  headPosition: () => Promise<number>;
  followers: readonly ReadModelFollower[];
  timeoutMs: number;
  log: { warn: (obj: object, msg: string) => void };
}): ReadYourWrites => {
  const followerOf = new Map<string, ReadModelFollower>();
  for (const f of deps.followers) for (const n of f.names()) followerOf.set(n, f);
  /** The wait for each follower of the named read models. */
  const waits = (names: readonly ReadModelName[], position: number) => {
    const groups = new Map<ReadModelFollower, string[]>();
    for (const n of names) {
      const f = followerOf.get(n);
      if (!f) throw new Error(`no runner follows the read model ${n}`);
      groups.set(f, [...(groups.get(f) ?? []), n]);
    }
    return [...groups].map(([f, ns]) => f.waitFor(position, deps.timeoutMs, ns));
  };

  const current: ReadYourWrites['current'] = async (names) => {
    if (names.length === 0) return;
    const head = await deps.headPosition();
    try {
      await Promise.all(waits(names, head));
    } catch (err) {
      deps.log.warn({ readModels: names, err: err instanceof Error ? err.message : String(err) }, 'a read model this call needs is not current; answered UNAVAILABLE before writing');
      throw new DomainError('UNAVAILABLE', `the ${names.join(', ')} read ${names.length === 1 ? 'model is' : 'models are'} not current; nothing was written, retry shortly`, { retryAfterSeconds: 1 });
    }
  };

  const include: ReadYourWrites['include'] = async (names, position) => {
    if (names.length === 0 || position <= 0) return;
    try {
      await Promise.all(waits(names, position));
    } catch (err) {
      deps.log.warn({ readModels: names, position, err: err instanceof Error ? err.message : String(err) }, 'the write is recorded, but a read model has not applied it yet');
    }
  };

  /** Per read model and key, a count and a checkpoint it includes every event up to. */
  const counted = new Map<string, { count: number; checkpoint: number }>();
  const countBelow: ReadYourWrites['countBelow'] = async (name, limit, read, key) => {
    const f = followerOf.get(name);
    const status = f?.status()[name];
    if (status && status.failure === undefined) {
      const id = key === undefined ? undefined : `${name}\n${key}`;
      const earlier = id === undefined ? undefined : counted.get(id);
      if (earlier) {
        // No event raises the count by more than one: what it was, plus every event since.
        const bound = earlier.count + Math.max(0, (await deps.headPosition()) - earlier.checkpoint);
        if (bound < limit) return bound;
      }
      // The checkpoint before the read: what is read includes at least every event up to it.
      const count = read();
      const head = await deps.headPosition();
      if (id !== undefined) {
        if (counted.size >= MAX_COUNTED) counted.clear();
        counted.set(id, { count, checkpoint: status.checkpoint });
      }
      const bound = count + Math.max(0, head - status.checkpoint);
      if (bound < limit) return bound;
    }
    await current([name]);
    return read();
  };

  return {
    current,
    include,
    countBelow,
    command: async (names, run) => {
      await current(names);
      const r = await run();
      await include(names, r.position);
      return r;
    },
  };
};
