// The recovery codes decider, given/when/then on events; the codes' alphabet, grouping and the
// normalisation of what users type.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { safeEqual } from '../src/crypto/keyring.ts';
import { formatRecoveryCode, normaliseRecoveryCode, RECOVERY_ALPHABET, RECOVERY_CODE_BITS } from '../src/domain/recovery/code.ts';
import { matchingIndex, recoveryDecider } from '../src/domain/recovery/decider.ts';
import type { RecoveryCommand, RecoveryEvent } from '../src/domain/recovery/types.ts';
import { throttleDelaySeconds } from '../src/domain/totp/decider.ts';
import { deciderSpec } from './helpers/decider-spec.ts';

const given = deciderSpec(recoveryDecider);
const T = 1_800_000_000_000;
const HASHES = ['h0', 'h1', 'h2', 'h3', 'h4'];

const generated = (setId = 'set_1', codeHashes = HASHES, replaces: string | null = null, at = T): RecoveryEvent => ({ type: 'RecoveryCodesGenerated', data: { setId, codeHashes, replaces, at } });
const used = (index: number, remaining: number, setId = 'set_1', at = T + 1): RecoveryEvent => ({ type: 'RecoveryCodeUsed', data: { setId, index, remaining, at } });
const low = (remaining: number, setId = 'set_1', at = T + 1): RecoveryEvent => ({ type: 'RecoveryCodesLow', data: { setId, remaining, at } });
const rejected = (failures: number, at: number, reason: 'mismatch' | 'used' = 'mismatch'): RecoveryEvent => ({ type: 'RecoveryCodeRejected', data: { at, failures, reason } });

const generate = (replace = false, setId = 'set_2', codeHashes = ['n0', 'n1', 'n2', 'n3', 'n4']): RecoveryCommand => ({ type: 'GenerateRecoveryCodes', data: { setId, codeHashes, replace, now: T + 10 } });
const verify = (candidateHash: string, now = T + 1): RecoveryCommand => ({ type: 'VerifyRecoveryCode', data: { candidateHash, now } });

describe('recovery codes decider', () => {
  test('generating with no set records the hashes of the new set', () => {
    given([]).when(generate()).then([generated('set_2', ['n0', 'n1', 'n2', 'n3', 'n4'], null, T + 10)]);
  });

  test('a set with unused codes is replaced only when asked (ALREADY_ENROLLED otherwise); the new set names the one it replaces', () => {
    given([generated()]).when(generate()).thenThrows('ALREADY_ENROLLED', /5 unused recovery codes; pass replace=true/);
    given([generated()]).when(generate(true)).then([generated('set_2', ['n0', 'n1', 'n2', 'n3', 'n4'], 'set_1', T + 10)]);
  });

  test('a set whose codes are all used is replaced without asking', () => {
    given([generated('set_1', ['h0']), used(0, 0)]).when(generate()).then([generated('set_2', ['n0', 'n1', 'n2', 'n3', 'n4'], 'set_1', T + 10)]);
  });

  test('a code of the set is used once: the use records which code and how many remain', () => {
    given([generated()]).when(verify('h3')).then([used(3, 4)]);
  });

  test('a code already used is refused as "used", and not counted as a failure', () => {
    given([generated(), used(3, 4)]).when(verify('h3')).then([rejected(0, T + 1, 'used')]);
    given([generated(), rejected(2, T - 60_000), used(1, 4)]).when(verify('h1', T + 2)).then([rejected(0, T + 2, 'used')]);
  });

  test('a wrong code is a failure, counted', () => {
    given([generated()]).when(verify('nope')).then([rejected(1, T + 1)]);
    given([generated(), rejected(1, T - 60_000)]).when(verify('nope')).then([rejected(2, T + 1)]);
  });

  test('the use that leaves 2 or fewer codes also records that the set runs low', () => {
    const three = [generated(), used(0, 4), used(1, 3)];
    given(three).when(verify('h2')).then([used(2, 2), low(2)]);
    given([...three, used(2, 2), low(2)]).when(verify('h3')).then([used(3, 1), low(1)]);
    given([...three, used(2, 2), used(3, 1)]).when(verify('h4')).then([used(4, 0), low(0)]);
  });

  test('regenerating replaces the whole set: the old codes no longer match, the new ones do', () => {
    const history = [generated(), used(0, 4), generated('set_2', ['n0', 'n1'], 'set_1', T + 5)];
    given(history).when(verify('h1', T + 6)).then([rejected(1, T + 6)]);
    given(history).when(verify('n0', T + 6)).then([{ type: 'RecoveryCodeUsed', data: { setId: 'set_2', index: 0, remaining: 1, at: T + 6 } }, low(1, 'set_2', T + 6)]);
  });

  test('with no set, or after removal: NOT_ENROLLED', () => {
    given([]).when(verify('h0')).thenThrows('NOT_ENROLLED');
    given([generated(), { type: 'RecoveryCodesRemoved', data: { setId: 'set_1', at: T } }]).when(verify('h0')).thenThrows('NOT_ENROLLED');
    given([]).when({ type: 'RemoveRecoveryCodes', data: { now: T } }).thenThrows('NOT_ENROLLED');
    given([generated()]).when({ type: 'RemoveRecoveryCodes', data: { now: T } }).then([{ type: 'RecoveryCodesRemoved', data: { setId: 'set_1', at: T } }]);
  });

  test("attempts are throttled by TOTP's rules: after 3 failures the next try waits, RATE_LIMITED with retryAfterSeconds, right code or not", () => {
    const failures = [rejected(1, T), rejected(2, T), rejected(3, T)];
    const wait = throttleDelaySeconds(3);
    assert.equal(wait, 1);
    given([generated(), ...failures]).when(verify('h0', T + 500)).thenThrows('RATE_LIMITED', { retryAfterSeconds: 1 });
    given([generated(), ...failures]).when(verify('h0', T + wait * 1000)).then([used(0, 4, 'set_1', T + 1000)]);
    const seven = [1, 2, 3, 4, 5, 6, 7].map((n) => rejected(n, T));
    given([generated(), ...seven]).when(verify('h0', T + 1000)).thenThrows('RATE_LIMITED', { retryAfterSeconds: throttleDelaySeconds(7) - 1 });
  });

  test('a used code resets the failures; a removal does not', () => {
    const state = [generated(), rejected(1, T), rejected(2, T), used(0, 4)].reduce(recoveryDecider.evolve, recoveryDecider.initialState());
    assert.deepEqual(state.throttle, { failures: 0, lastFailureAt: 0 });
    const removed = [generated(), rejected(1, T), rejected(2, T), rejected(3, T), { type: 'RecoveryCodesRemoved', data: { setId: 'set_1', at: T } } as RecoveryEvent, generated('set_2')];
    given(removed).when(verify('h0', T + 10)).thenThrows('RATE_LIMITED');
  });

  test('the match finds the code wherever it sits, comparing every hash of the set in constant time whatever matched', () => {
    assert.equal(matchingIndex(HASHES, 'h0'), 0);
    assert.equal(matchingIndex(HASHES, 'h4'), 4);
    assert.equal(matchingIndex(HASHES, 'zz'), -1);
    assert.equal(matchingIndex(HASHES, 'h'), -1);
    for (const candidate of ['h0', 'h2', 'h4', 'zz']) {
      const compared: string[] = [];
      matchingIndex(HASHES, candidate, (a, b) => (compared.push(a), safeEqual(a, b)));
      assert.deepEqual(compared, HASHES, candidate);
    }
  });
});

describe('recovery code text', () => {
  test('the alphabet is 32 symbols without i, l, o, u: 12 symbols are 60 bits', () => {
    assert.equal(new Set(RECOVERY_ALPHABET).size, 32);
    assert.doesNotMatch(RECOVERY_ALPHABET, /[ilou]/);
    assert.equal(RECOVERY_CODE_BITS, 60);
  });

  test('shown in three groups of four', () => {
    assert.equal(formatRecoveryCode('k7mq2xw9hc4t'), 'k7mq-2xw9-hc4t');
  });

  test('typed input is normalised: case, spaces, dashes, underscores; o read as 0, i and l as 1', () => {
    for (const typed of ['k7mq-2xw9-hc4t', 'K7MQ 2XW9 HC4T', ' k7mq2xw9hc4t ', 'k7mq_2xw9_hc4t', 'K7MQ-\t2XW9 - HC4T']) assert.equal(normaliseRecoveryCode(typed), 'k7mq2xw9hc4t', typed);
    assert.equal(normaliseRecoveryCode('o0il-1abc-defg'), '0011-1abc-defg'.replaceAll('-', ''));
  });

  test('anything else is not a recovery code: wrong length, u, punctuation, non-ASCII', () => {
    for (const typed of ['', 'k7mq-2xw9-hc4', 'k7mq-2xw9-hc4tt', 'k7mq-2xw9-hc4u', 'k7mq.2xw9.hc4t', 'k7mq-2xw9-hc4ｔ', '123456']) assert.equal(normaliseRecoveryCode(typed), null, typed);
  });
});
