// A bounded least-recently-used map: the hot path's caches use it (unwrapped data keys, derived
// AES keys, folded aggregates), so every operation is O(1) and allocates nothing but a new entry.
// The entries form a doubly linked list, least recently used first; a Map finds them by key. A hit
// moves its entry to the end of the list and leaves the Map alone.
// Two designs that were measured and dropped:
// - Map insertion order alone (a hit deletes and re-inserts the key; the first key is evicted
//   through a fresh `map.keys()`): that iterator starts at the table's first slot and steps over
//   every entry deleted since V8 last compacted the table: 4 µs per operation on a full cache of
//   10,000 keys.
// - The same with one iterator kept across evictions: 1 µs, but a live iterator keeps every table
//   V8 has replaced since it last moved (each compaction makes a new one), and it moves only on
//   an eviction: a cache short of its capacity grew without bound (+20-30 MB of peak RSS in the
//   load bench's OTP verify run).
export type Lru<K, V> = {
  /** The value, made the most recently used. */
  get: (key: K) => V | undefined;
  /** The value, its place left as it is. */
  peek: (key: K) => V | undefined;
  has: (key: K) => boolean;
  set: (key: K, value: V) => void;
  delete: (key: K) => void;
  clear: () => void;
  size: () => number;
};

type Entry<K, V> = { key: K; value: V; older: Entry<K, V> | undefined; newer: Entry<K, V> | undefined };

/** onEvict: told of each entry dropped for room (not of deletions or replaced values). */
export const createLru = <K, V>(capacity: number, onEvict?: (key: K, value: V) => void): Lru<K, V> => {
  if (!(capacity >= 1)) throw new RangeError(`an LRU needs a capacity of at least 1, got ${capacity}`);
  const map = new Map<K, Entry<K, V>>();
  let oldest: Entry<K, V> | undefined;
  let newest: Entry<K, V> | undefined;
  const unlink = (e: Entry<K, V>) => {
    if (e.older) e.older.newer = e.newer;
    else oldest = e.newer;
    if (e.newer) e.newer.older = e.older;
    else newest = e.older;
    e.older = e.newer = undefined;
  };
  const append = (e: Entry<K, V>) => {
    e.older = newest;
    if (newest) newest.newer = e;
    else oldest = e;
    newest = e;
  };
  const touch = (e: Entry<K, V>) => {
    if (e === newest) return;
    unlink(e);
    append(e);
  };
  return {
    get: (key) => {
      const e = map.get(key);
      if (!e) return undefined;
      touch(e);
      return e.value;
    },
    peek: (key) => map.get(key)?.value,
    has: (key) => map.has(key),
    set: (key, value) => {
      const e = map.get(key);
      if (e) {
        e.value = value;
        touch(e);
        return;
      }
      const added: Entry<K, V> = { key, value, older: undefined, newer: undefined };
      map.set(key, added);
      append(added);
      if (map.size > capacity) {
        const out = oldest!;
        unlink(out);
        map.delete(out.key);
        onEvict?.(out.key, out.value);
      }
    },
    delete: (key) => {
      const e = map.get(key);
      if (!e) return;
      unlink(e);
      map.delete(key);
    },
    clear: () => {
      map.clear();
      oldest = newest = undefined;
    },
    size: () => map.size,
  };
};
