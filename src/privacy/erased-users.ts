// The erased users a process knows of, in bounded memory: a Bloom filter of every erasure (fixed
// size, no false negatives) and a bounded cache of the generations of users who hit it. A user the
// filter has never seen was never erased (generation 0, nothing read); a hit whose generation is
// not cached (a false positive, or a user evicted from the cache) costs one read of the user's
// stream, which the caller then records here. At the default size (2 MiB, 7 probes) the false
// positives stay under 0.1 % up to a million erasures and grow slowly past that: the cost of more
// erasures is more reads, never more memory or a wrong key.
import { createLru } from '../lru.ts';

export type ErasedUsers = {
  /** The user ("tenant\nuserHash") is at `generation` or later (an erasure, or a read of their stream). */
  record: (id: string, generation: number) => void;
  /** 0: never erased. A number: the user's generation. undefined: maybe erased, read the stream. */
  generation: (id: string) => number | undefined;
};

/** 32-bit FNV-1a from `seed`, then murmur3's finaliser so that every bit depends on every char. */
const hash32 = (s: string, seed: number) => {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

export const createErasedUsers = (o: { filterBits?: number; probes?: number; cached?: number } = {}): ErasedUsers => {
  const bits = o.filterBits ?? 2 ** 24;
  if (!(bits >= 8) || !Number.isInteger(Math.log2(bits))) throw new RangeError(`filterBits must be a power of two of at least 8, got ${bits}`);
  const probes = o.probes ?? 7;
  let filter: Uint8Array | undefined; // allocated with the first erasure
  const cache = createLru<string, number>(o.cached ?? 10_000);
  /** Calls visit(byte, mask) for each of the id's probes; stops when it returns false. */
  const probe = (id: string, visit: (byte: number, mask: number) => boolean) => {
    const h1 = hash32(id, 0x811c9dc5);
    const h2 = hash32(id, 0x9747b28c) | 1;
    for (let i = 0; i < probes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & (bits - 1);
      if (!visit(bit >>> 3, 1 << (bit & 7))) return false;
    }
    return true;
  };
  return {
    record: (id, generation) => {
      if (generation > 0) {
        const f = (filter ??= new Uint8Array(bits / 8));
        probe(id, (byte, mask) => ((f[byte] |= mask), true));
      }
      cache.set(id, Math.max(generation, cache.get(id) ?? 0));
    },
    generation: (id) => {
      const f = filter;
      if (!f || !probe(id, (byte, mask) => (f[byte] & mask) !== 0)) return 0;
      return cache.get(id);
    },
  };
};
