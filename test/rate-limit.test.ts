// The rate limiter's memory bound, on an injected clock: only live windows are held, never more
// than maxKeys (a pool never more than its share), a new key without room is refused rather than
// let through or made room for by wiping another key's counter, and room comes back as windows end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAdmissionLimiter, rateLimitKeys } from '../src/api/admission.ts';
import { createRateLimiter } from '../src/api/rate-limit.ts';
import { loadConfig } from '../src/config.ts';

const limiterAt = (o: { maxKeys: number; poolMax?: Record<string, number>; unbounded?: string[] }) => {
  const clock = { t: 1_000_000 };
  const full: (string | undefined)[] = [];
  const { poolMax } = o;
  const limiter = createRateLimiter({ windowSeconds: 60, now: () => clock.t, onFull: (p) => full.push(p), ...o, poolMax: poolMax && ((p) => poolMax[p] ?? Infinity) });
  return { clock, limiter, full };
};

describe('rate limiter: bounded memory under address rotation', () => {
  test('flooding distinct keys holds at most maxKeys; the rest are refused as full and nothing is counted for them', () => {
    const { limiter, full } = limiterAt({ maxKeys: 100 });
    const refused = [];
    for (let i = 0; i < 10_000; i++) {
      const d = limiter.hit(`global|t|10.0.${i >> 8}.${i & 255}`, 5);
      if (!d.allowed) refused.push(d);
    }
    assert.equal(limiter.size(), 100);
    assert.equal(refused.length, 9_900);
    assert.ok(refused.every((d) => d.full === true && d.remaining === 0 && d.resetSeconds === 60));
    assert.equal(full.length, 9_900, 'each refusal for want of room is reported');
  });

  test('a key counted before the flood keeps its count: the flood neither resets it nor stops it being answered', () => {
    const { limiter } = limiterAt({ maxKeys: 10 });
    for (let i = 0; i < 3; i++) limiter.hit('verify|t|198.51.100.7', 3);
    for (let i = 0; i < 1000; i++) limiter.hit(`verify|t|203.0.113.${i}`, 3);
    const d = limiter.hit('verify|t|198.51.100.7', 3);
    assert.equal(d.allowed, false, 'still at its limit: a flood of new keys did not wipe it');
    assert.equal(d.full, undefined, 'refused for its own limit, not for room');
    assert.equal(limiter.hit('verify|t|203.0.113.1', 3).allowed, true, 'a key that got room goes on being counted');
  });

  test('room comes back when the oldest windows end, and ended windows are dropped without waiting for a whole window', () => {
    const { clock, limiter } = limiterAt({ maxKeys: 4 });
    for (const k of ['a', 'b']) limiter.hit(k, 1);
    clock.t += 30_000;
    for (const k of ['c', 'd']) limiter.hit(k, 1);
    const refused = limiter.hit('e', 1);
    assert.equal(refused.full, true);
    assert.equal(refused.resetSeconds, 30, 'Retry-After: until the oldest window ends');
    clock.t += 30_000;
    assert.equal(limiter.hit('e', 1).allowed, true, 'a and b ended: room for e');
    assert.equal(limiter.size(), 3);
    clock.t += 30_000;
    limiter.hit('e', 1); // any hit drops what ended (c and d)
    assert.equal(limiter.size(), 1);
  });

  test('a renewed window moves to the back: a key that keeps calling is not the first to end', () => {
    const { clock, limiter } = limiterAt({ maxKeys: 2 });
    limiter.hit('steady', 10);
    clock.t += 10_000;
    limiter.hit('other', 10);
    clock.t += 55_000; // steady's window ended, other's has 5 s left
    assert.equal(limiter.hit('steady', 10).remaining, 9, 'a new window for steady');
    clock.t += 5_000; // other ended; steady's renewed window has 55 s left
    assert.equal(limiter.hit('new', 10).allowed, true);
    assert.equal(limiter.size(), 2);
    assert.equal(limiter.hit('steady', 10).remaining, 8, 'steady kept its count');
  });

  test('a pool is held to its share, so it cannot take the room of keys outside it; an unbounded pool is never refused', () => {
    const { limiter, full } = limiterAt({ maxKeys: 10, poolMax: { anonymous: 5 }, unbounded: ['admin'] });
    for (let i = 0; i < 100; i++) limiter.hit(`anon|192.0.2.${i}`, 20, 'anonymous');
    assert.equal(limiter.size('anonymous'), 5);
    assert.ok(full.every((p) => p === 'anonymous'));
    for (let i = 0; i < 5; i++) assert.equal(limiter.hit(`global|t|198.51.100.${i}`, 20).allowed, true, 'the other half is still there');
    assert.equal(limiter.hit('global|t|198.51.100.99', 20).full, true, 'and then the whole is full');
    assert.equal(limiter.hit('admin|127.0.0.1', 20, 'admin').allowed, true, 'the operator still gets in');
  });

  test("a full pool's Retry-After is until that pool's oldest window ends, not the oldest of all", () => {
    const { clock, limiter } = limiterAt({ maxKeys: 100, poolMax: { anonymous: 2 } });
    limiter.hit('global|t|198.51.100.1', 5);
    clock.t += 20_000;
    limiter.hit('anon|192.0.2.1', 5, 'anonymous');
    limiter.hit('anon|192.0.2.2', 5, 'anonymous');
    const d = limiter.hit('anon|192.0.2.3', 5, 'anonymous');
    assert.equal(d.full, true);
    assert.equal(d.resetSeconds, 60, 'the anonymous windows started 20 s after the other one');
    assert.equal(limiter.exhausted('anon|192.0.2.1', 1, 'anonymous'), true, 'a key is looked up in its pool');
  });

    test('exhausted says whether a live key has used up its limit, and counts nothing', () => {
    const { clock, limiter } = limiterAt({ maxKeys: 10 });
    assert.equal(limiter.exhausted('key|k', 2), false);
    limiter.hit('key|k', 2);
    limiter.hit('key|k', 2);
    assert.equal(limiter.exhausted('key|k', 2), true);
    assert.equal(limiter.size(), 1);
    clock.t += 60_000;
    assert.equal(limiter.exhausted('key|k', 2), false, 'its window ended');
  });

  test('each tenant holds at most its percentage of the counters: one tenant flooding with new end users leaves room for the others', () => {
    const clock = { t: 1_000_000 };
    const full: string[] = [];
    const logs: object[] = [];
    const limiter = createAdmissionLimiter({
      windowSeconds: 60, maxKeys: 100, tenantPercent: 30, now: () => clock.t,
      metrics: { rateLimitFull: { inc: ({ pool }) => full.push(pool) } },
      logger: { warn: (o) => logs.push(o) },
    });
    for (let i = 0; i < 50; i++) limiter.hit(`global|tn_flood|203.0.113.${i}`, 5, 'tn_flood');
    assert.equal(limiter.size('tn_flood'), 30);
    assert.deepEqual(new Set(full), new Set(['tenant']), 'a tenant id is no metric label');
    assert.deepEqual(logs, [{ pool: 'tenant', tenantId: 'tn_flood', maxKeys: 100 }], 'logged once per window, naming the tenant');
    assert.equal(limiter.hit('global|tn_flood|203.0.113.99', 5, 'tn_flood').resetSeconds, 60, "Retry-After: until the tenant's oldest window ends");
    for (let i = 0; i < 30; i++) assert.equal(limiter.hit(`global|tn_other|198.51.100.${i}`, 5, 'tn_other').allowed, true, 'another tenant finds room');
    assert.deepEqual(rateLimitKeys(limiter), { all: 60, anonymous: 0, largest_tenant: 30 });
    clock.t += 60_000;
    assert.equal(limiter.hit('global|tn_flood|203.0.113.99', 5, 'tn_flood').allowed, true, 'room again once its windows end');
    assert.deepEqual(rateLimitKeys(limiter), { all: 1, anonymous: 0, largest_tenant: 1 });
  });

  test('SECUREKEY_RATE_LIMIT_TENANT_PERCENT: 50 by default; outside 1-100, or not a whole number, stops the server naming the setting', () => {
    const env = { SECUREKEY_MASTER_KEY: 'k'.repeat(44) };
    assert.equal(loadConfig(env).rateLimits.tenantPercent, 50);
    assert.equal(loadConfig({ ...env, SECUREKEY_RATE_LIMIT_TENANT_PERCENT: '100' }).rateLimits.tenantPercent, 100);
    for (const bad of ['0', '101', '12.5', 'half']) {
      assert.throws(() => loadConfig({ ...env, SECUREKEY_RATE_LIMIT_TENANT_PERCENT: bad }), { name: 'ConfigError', message: `SECUREKEY_RATE_LIMIT_TENANT_PERCENT must be a whole percentage from 1 to 100, got "${bad}"` });
    }
  });

  test('SECUREKEY_RATE_LIMIT_MAX_KEYS: 250000 by default; fewer than 100, or not an integer, stops the server naming the setting', () => {
    const env = { SECUREKEY_MASTER_KEY: 'k'.repeat(44) };
    assert.equal(loadConfig(env).rateLimits.maxKeys, 250_000);
    assert.equal(loadConfig({ ...env, SECUREKEY_RATE_LIMIT_MAX_KEYS: '1000000' }).rateLimits.maxKeys, 1_000_000);
    for (const bad of ['99', '0', '-5', '1e9x', '2.5', 'lots']) {
      assert.throws(() => loadConfig({ ...env, SECUREKEY_RATE_LIMIT_MAX_KEYS: bad }), { name: 'ConfigError', message: `SECUREKEY_RATE_LIMIT_MAX_KEYS must be an integer >= 100, got "${bad}"` });
    }
  });
});
