import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskE164, normaliseEmail, normalisePhone } from '../src/domain/destination.ts';
import { DomainError } from '../src/domain/errors.ts';

const rejectsWith = (fn: () => unknown, code: string, secret?: string) => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DomainError);
    assert.equal(e.code, code);
    if (secret) assert.ok(!e.message.includes(secret), `message must not echo the destination: ${e.message}`);
    return true;
  });
};

test('a Korean mobile number in national form normalises to E.164 with a masked form', () => {
  assert.deepEqual(normalisePhone('01012345678'), { e164: '+821012345678', country: 'KR', masked: '+82 10-****-5678' });
});

test('E.164, dashed and spaced inputs give the same number', () => {
  for (const s of ['+821012345678', '010-1234-5678', ' 010 1234 5678 ', '+82 10-1234-5678']) {
    assert.equal(normalisePhone(s).e164, '+821012345678', s);
  }
});

test('a fixed-line number is accepted', () => {
  assert.equal(normalisePhone('02-1234-5678').e164, '+82212345678');
});

test('the default region decides how a national number is read', () => {
  const us = normalisePhone('(202) 555-0123', 'US');
  assert.equal(us.e164, '+12025550123');
  assert.equal(us.country, 'US');
  assert.equal(normalisePhone('+12025550123', 'KR').country, 'US');
});

test('invalid phone numbers are refused with INVALID_PHONE and the message does not echo them', () => {
  for (const s of ['01098765', '+8210987654321', 'xyz', '', 'call 01098765432 now', '2025550123']) {
    rejectsWith(() => normalisePhone(s), 'INVALID_PHONE', s || undefined);
  }
  rejectsWith(() => normalisePhone(undefined as unknown as string), 'INVALID_PHONE');
});

test('an unknown default region is an INVALID_ARGUMENT', () => {
  rejectsWith(() => normalisePhone('01012345678', 'XX'), 'INVALID_ARGUMENT');
});

test('maskE164 hides the middle digits', () => {
  assert.equal(maskE164('+821012345678'), '+82 10-****-5678');
});

test('email: the domain is lower-cased, the local part kept (folded only in the key), and a masked form given', () => {
  assert.deepEqual(normaliseEmail(' User.Name+tag@Example.COM '), { address: 'User.Name+tag@example.com', key: 'user.name+tag@example.com', masked: 'U***@example.com' });
  assert.equal(normaliseEmail('u@example.com').masked, '***@example.com');
});

test('email: an internationalised domain is kept in its ASCII form', () => {
  assert.equal(normaliseEmail('kim@예시.한국').address, 'kim@xn--vv4b11d.xn--3e0b707e');
});

test('invalid email addresses are refused with INVALID_EMAIL and the message does not echo them', () => {
  for (const s of ['', 'someone', '@example.org', 'someone@', 'someone@localhost', 'some one@example.org', 'a..b@example.org', 'someone@-example.org', 'someone@example.c0m', `${'a'.repeat(65)}@example.org`]) {
    rejectsWith(() => normaliseEmail(s), 'INVALID_EMAIL', s || undefined);
  }
});
