// A user's stream key: the keyed hash that stands for the tenant's user id in stream names
// (totp-, webauthn-, pushdevices-, pushinbox-), in metadata.userKey and in read models, and that
// owns the user's data key. Generation 0 is keyring.hmac('user', userId), as before erasures
// existed; each erasure (UserErased in the user's stream) moves the user to a new key, so the same
// external id starts from scratch in new streams while the old ones keep their (shredded) history.
// Generations are cached (the hot path reads no stream); an erasure seen in the log evicts them.
import type { Keyring } from '../crypto/keyring.ts';
import { foldStream } from '../eventstore/handle-command.ts';
import type { EventStore } from '../eventstore/port.ts';
import { userDecider, userStream } from '../domain/user/index.ts';
import { USER_HASH_PURPOSE } from '../domain/push/streams.ts';
import { createLru } from '../privacy/lru.ts';

export type UserKeys = {
  /** The keyed hash of generation 0 (names the user's own stream of erasures). */
  hashOf: (userId: string) => string;
  /** The user's current stream key. */
  of: (tenantId: string, userId: string) => Promise<string>;
  /** The user's current generation and stream key, read from the log (not the cache). */
  fresh: (tenantId: string, userId: string) => Promise<{ generation: number; userKey: string }>;
  /** Every stream key the user has had, oldest first, the current one last. */
  all: (tenantId: string, userId: string) => Promise<string[]>;
  /** Forgets the cached generation (after an erasure, here or in another process). */
  forget: (tenantId: string, userHash: string) => void;
};

export const createUserKeys = (deps: { store: EventStore; keyring: Keyring; cacheSize?: number }): UserKeys => {
  const { store, keyring } = deps;
  const generations = createLru<string, number>(deps.cacheSize ?? 100_000);
  const hashOf = (userId: string) => keyring.hmac(USER_HASH_PURPOSE, userId);
  /** Generation 0's key is the user's hash itself (userHash, when the caller has it already). */
  const keyOf = (userId: string, generation: number, userHash?: string) =>
    generation === 0 ? (userHash ?? hashOf(userId)) : keyring.hmac(USER_HASH_PURPOSE, `${userId}\n${generation}`);
  const read = async (tenantId: string, userHash: string) => foldStream(userDecider, await store.readStream(userStream(tenantId, userHash))).generation;
  const generationOf = async (tenantId: string, userId: string, userHash = hashOf(userId)) => {
    const id = `${tenantId}\n${userHash}`;
    let g = generations.get(id);
    if (g === undefined) {
      g = await read(tenantId, userHash);
      generations.set(id, g);
    }
    return g;
  };
  return {
    hashOf,
    of: async (tenantId, userId) => {
      const userHash = hashOf(userId);
      return keyOf(userId, await generationOf(tenantId, userId, userHash), userHash);
    },
    fresh: async (tenantId, userId) => {
      const generation = await read(tenantId, hashOf(userId));
      generations.set(`${tenantId}\n${hashOf(userId)}`, generation);
      return { generation, userKey: keyOf(userId, generation) };
    },
    all: async (tenantId, userId) => {
      const g = await generationOf(tenantId, userId);
      return Array.from({ length: g + 1 }, (_, i) => keyOf(userId, i));
    },
    forget: (tenantId, userHash) => generations.delete(`${tenantId}\n${userHash}`),
  };
};
