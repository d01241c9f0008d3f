// The erased users a process knows of take bounded memory: a filter that never forgets an erasure
// and a bounded cache of generations; what neither can answer is read from the user's stream.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { createErasedUsers } from '../src/privacy/erased-users.ts';

/** Ids as user-keys.ts forms them: tenant, newline, a hex keyed hash. */
const id = (i: number, tenant = 'tn_a') => `${tenant}\n${createHmac('sha256', 'k').update(String(i)).digest('hex')}`;

test('a user who was never erased is generation 0 without a read, even before any erasure', () => {
  const erased = createErasedUsers();
  assert.equal(erased.generation(id(1)), 0);
  erased.record(id(2), 0); // a read of a user stream that holds no erasure
  assert.equal(erased.generation(id(2)), 0);
});

test('no erasure is ever forgotten: past the cache, an erased user is "read the stream", never generation 0', () => {
  const erased = createErasedUsers({ filterBits: 2 ** 16, cached: 100 });
  for (let i = 0; i < 5000; i++) erased.record(id(i), 1 + (i % 3));
  for (let i = 0; i < 5000; i++) assert.notEqual(erased.generation(id(i)), 0, `erasure ${i} forgotten`);
  // The most recent ones are cached with their generation; an older generation never takes one back.
  assert.equal(erased.generation(id(4999)), 1 + (4999 % 3));
  erased.record(id(4999), 1);
  assert.equal(erased.generation(id(4999)), 1 + (4999 % 3));
  // An evicted one is answered by a read, which is then recorded.
  assert.equal(erased.generation(id(0)), undefined);
  erased.record(id(0), 1);
  assert.equal(erased.generation(id(0)), 1);
});

test('the same user hash in another tenant is another user', () => {
  const erased = createErasedUsers({ cached: 1 });
  erased.record(id(7, 'tn_a'), 2);
  assert.equal(erased.generation(id(7, 'tn_b')), 0);
});

test('false positives stay rare at the designed load, so most users never cost a read', () => {
  const erased = createErasedUsers({ filterBits: 2 ** 20, cached: 1 });
  // 2^20 bits hold 2^16 erasures as 2^24 bits hold 2^20 (a million): the same bits per erasure.
  for (let i = 0; i < 65_536; i++) erased.record(id(i), 1);
  let positives = 0;
  for (let i = 100_000; i < 200_000; i++) if (erased.generation(id(i)) !== 0) positives++;
  assert.ok(positives < 100, `${positives} of 100,000 never-erased users would cost a read (designed: under 0.1 %)`);
});

test('the filter size must be a power of two bits', () => {
  assert.throws(() => createErasedUsers({ filterBits: 1000 }), /power of two/);
  assert.throws(() => createErasedUsers({ filterBits: 4 }), /power of two/);
});
