import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createKeyring, safeEqual } from '../src/crypto/keyring.ts';

test('keyring: encryption round-trips and is bound to its purpose', () => {
  const k = createKeyring(randomBytes(32));
  const sealed = k.encrypt('totp-secret', 'JBSWY3DPEHPK3PXP');
  assert.ok(!sealed.includes('JBSWY3DPEHPK3PXP'));
  assert.equal(k.decrypt('totp-secret', sealed), 'JBSWY3DPEHPK3PXP');
  assert.throws(() => k.decrypt('other-purpose', sealed));
});

test('keyring: hmac is keyed — another master key gives another hash', () => {
  const a = createKeyring(randomBytes(32));
  const b = createKeyring(randomBytes(32));
  assert.equal(a.hmac('dest', '+821012345678'), a.hmac('dest', '+821012345678'));
  assert.notEqual(a.hmac('dest', '+821012345678'), b.hmac('dest', '+821012345678'));
  assert.notEqual(a.hmac('dest', 'x'), a.hmac('code', 'x'));
});

test('safeEqual compares whole strings', () => {
  assert.equal(safeEqual('123456', '123456'), true);
  assert.equal(safeEqual('123456', '123457'), false);
  assert.equal(safeEqual('123456', '12345'), false);
});
