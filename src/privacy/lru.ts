// A bounded least-recently-used map (a Map keeps insertion order: a hit moves the entry to the
// end, and the first entry is the one evicted). Holds unwrapped data keys, so that the hot path
// reads no key from disk after the first use.
export type Lru<K, V> = {
  get: (key: K) => V | undefined;
  has: (key: K) => boolean;
  set: (key: K, value: V) => void;
  delete: (key: K) => void;
  clear: () => void;
  size: () => number;
};

export const createLru = <K, V>(capacity: number): Lru<K, V> => {
  if (!(capacity >= 1)) throw new RangeError(`an LRU needs a capacity of at least 1, got ${capacity}`);
  const map = new Map<K, V>();
  return {
    get: (key) => {
      if (!map.has(key)) return undefined;
      const v = map.get(key) as V;
      map.delete(key);
      map.set(key, v);
      return v;
    },
    has: (key) => map.has(key),
    set: (key, value) => {
      map.delete(key);
      map.set(key, value);
      if (map.size > capacity) map.delete(map.keys().next().value as K);
    },
    delete: (key) => void map.delete(key),
    clear: () => map.clear(),
    size: () => map.size,
  };
};
