// A user's stream key: the keyed hash that stands for the tenant's user id in stream names
// (totp-, webauthn-, pushdevices-, pushinbox-), in metadata.userKey and in read models, and that
// owns the user's data key. Generation 0 is keyring.hmac('user', userId), as before erasures
// existed; each erasure (UserErased in the user's stream) moves the user to a new key, so the same
// external id starts from scratch in new streams while the old ones keep their (shredded) history.
// The server knows every erasure (the erasures read model at start-up, then each erasure as it is
// made or seen in the log: src/app/erasure-follower.ts), in bounded memory (src/privacy/erased-users.ts), so
// the hot path reads no stream for a user who was never erased, nor for most who were. Until then
// (and in the admin CLI) each lookup reads the user's stream.
import type { Keyring } from '../crypto/keyring.ts';
import { foldStream } from '../eventstore/handle-command.ts';
import type { EventStore } from '../eventstore/port.ts';
import { userDecider, userStream } from '../domain/user/index.ts';
import { USER_HASH_PURPOSE } from '../domain/push/streams.ts';
import type { UserGeneration } from '../../projections/erasures/index.ts';
import { createErasedUsers } from '../privacy/erased-users.ts';

export type UserKeys = {
  /** The keyed hash of generation 0 (names the user's own stream of erasures). */
  hashOf: (userId: string) => string;
  /** The user's current stream key. */
  of: (tenantId: string, userId: string) => Promise<string>;
  /** The user's current generation and stream key, read from the log. */
  fresh: (tenantId: string, userId: string) => Promise<{ generation: number; userKey: string }>;
  /** Every stream key the user has had, oldest first, the current one last. */
  all: (tenantId: string, userId: string) => Promise<string[]>;
  /** An erasure, made here or seen in the log: the user is at `generation` (or later) now. */
  erased: (tenantId: string, userHash: string, generation: number) => void;
  /** Every erasure so far (the erasures read model, current): from now on a user not known to be
   * erased is at generation 0, and no lookup reads a stream. */
  knowAll: (erasures: Iterable<UserGeneration>) => void;
};

export const createUserKeys = (deps: { store: EventStore; keyring: Keyring }): UserKeys => {
  const { store, keyring } = deps;
  /** Each erased user this process knows of, by "tenant\nuserHash". */
  const known = createErasedUsers();
  let complete = false;
  const erased = (tenantId: string, userHash: string, generation: number) => known.record(`${tenantId}\n${userHash}`, generation);
  const hashOf = (userId: string) => keyring.hmac(USER_HASH_PURPOSE, userId);
  /** Generation 0's key is the user's hash itself (userHash, when the caller has it already). */
  const keyOf = (userId: string, generation: number, userHash?: string) =>
    generation === 0 ? (userHash ?? hashOf(userId)) : keyring.hmac(USER_HASH_PURPOSE, `${userId}\n${generation}`);
  const read = async (tenantId: string, userHash: string) => {
    const g = foldStream(userDecider, await store.readStream(userStream(tenantId, userHash))).generation;
    erased(tenantId, userHash, g);
    return g;
  };
  const generationOf = async (tenantId: string, userHash: string) => (complete ? (known.generation(`${tenantId}\n${userHash}`) ?? read(tenantId, userHash)) : read(tenantId, userHash));
  return {
    hashOf,
    of: async (tenantId, userId) => {
      const userHash = hashOf(userId);
      return keyOf(userId, await generationOf(tenantId, userHash), userHash);
    },
    fresh: async (tenantId, userId) => {
      const generation = await read(tenantId, hashOf(userId));
      return { generation, userKey: keyOf(userId, generation) };
    },
    all: async (tenantId, userId) => {
      const g = await generationOf(tenantId, hashOf(userId));
      return Array.from({ length: g + 1 }, (_, i) => keyOf(userId, i));
    },
    erased,
    knowAll: (erasures) => {
      for (const e of erasures) erased(e.tenantId, e.userHash, e.generation);
      complete = true;
    },
  };
};
