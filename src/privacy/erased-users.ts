// The erased users a process knows of, in bounded memory: a Bloom filter of every erasure (fixed
// size, no false negatives) and a bounded cache of the generations of users who hit it. A user the
// filter has never seen was never erased (generation 0, nothing read); a hit whose generation is
// not cached (a false positive, or a user evicted from the cache) costs one read of the user's
// stream, which the caller then records here. At the default size (2 MiB, 7 probes) the false
// positives stay under 0.1 % up to a million erasures and grow slowly past that: the cost of more
// erasures is more reads, never more memory or a wrong key.
import { createLru } from '../lru.ts';
import { createBloomFilter } from './bloom.ts';

export type ErasedUsers = {
  /** The user ("tenant\nuserHash") is at `generation` or later (an erasure, or a read of their stream). */
  record: (id: string, generation: number) => void;
  /** 0: never erased. A number: the user's generation. undefined: maybe erased, read the stream. */
  generation: (id: string) => number | undefined;
};

export const createErasedUsers = (o: { filterBits?: number; probes?: number; cached?: number } = {}): ErasedUsers => {
  const filter = createBloomFilter(o.filterBits ?? 2 ** 24, o.probes ?? 7);
  const cache = createLru<string, number>(o.cached ?? 10_000);
  return {
    record: (id, generation) => {
      if (generation > 0) filter.add(id);
      cache.set(id, Math.max(generation, cache.get(id) ?? 0));
    },
    generation: (id) => (filter.has(id) ? cache.get(id) : 0),
  };
};
