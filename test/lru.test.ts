// The LRU map behind the hot path's caches (src/lru.ts): exact least-recently-used order, kept
// through hits, deletions, clears and evictions, with one iterator kept across evictions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLru } from '../src/lru.ts';

describe('LRU map', () => {
  test('evicts exactly the least recently used entry, over a long random mix of operations', () => {
    const lru = createLru<number, number>(5);
    const order: number[] = []; // the reference: least recently used first
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let i = 0; i < 20_000; i++) {
      const k = rand(12);
      const op = rand(10);
      if (op < 5) {
        assert.equal(lru.get(k), order.includes(k) ? k : undefined);
        if (order.includes(k)) order.push(...order.splice(order.indexOf(k), 1));
      } else if (op < 8) {
        lru.set(k, k);
        if (order.includes(k)) order.splice(order.indexOf(k), 1);
        order.push(k);
        if (order.length > 5) order.shift();
      } else if (op < 9) {
        lru.delete(k);
        if (order.includes(k)) order.splice(order.indexOf(k), 1);
      } else if (rand(50) === 0) {
        lru.clear();
        order.length = 0;
      } else {
        assert.equal(lru.peek(k), order.includes(k) ? k : undefined);
      }
      assert.equal(lru.size(), order.length);
    }
    // The survivors leave in the reference's order as new keys come in.
    while (lru.size() < 5) lru.set(1000 + lru.size(), 0), order.push(1000 + order.length);
    for (const [i, k] of [...order].entries()) {
      assert.ok(lru.has(k));
      lru.set(2000 + i, 0);
      assert.equal(lru.has(k), false, `key ${k} should be the one evicted`);
    }
  });

  test('peek leaves the order alone, get refreshes it', () => {
    const lru = createLru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    assert.equal(lru.peek('a'), 1);
    lru.set('c', 3); // 'a' is still the oldest
    assert.equal(lru.has('a'), false);
    assert.equal(lru.get('b'), 2);
    lru.set('d', 4); // 'c' is the oldest now
    assert.deepEqual([lru.has('b'), lru.has('c'), lru.has('d')], [true, false, true]);
  });

  test('keeps evicting correctly after a clear', () => {
    const lru = createLru<number, number>(3);
    for (let i = 0; i < 10; i++) lru.set(i, i);
    lru.clear();
    for (let i = 10; i < 20; i++) lru.set(i, i);
    assert.equal(lru.size(), 3);
    assert.deepEqual([17, 18, 19].map((k) => lru.peek(k)), [17, 18, 19]);
  });

  test('tells onEvict of each entry dropped for room, and of nothing else', () => {
    const evicted: [string, number][] = [];
    const lru = createLru<string, number>(2, (k, v) => evicted.push([k, v]));
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('a', 3); // a replaced value is not an eviction
    lru.delete('b'); // nor a deletion
    lru.set('c', 4);
    lru.set('d', 5);
    assert.deepEqual(evicted, [['a', 3]]);
  });

  test('refuses a capacity below one', () => {
    assert.throws(() => createLru(0), RangeError);
  });
});
