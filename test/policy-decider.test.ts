// MFA policy decider (given/when/then on events) and the pure policy evaluation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type MfaPolicy, type PolicyCommand, type PolicyEvent, type PolicyInput, evaluatePolicies, policyDecider } from '../src/domain/policy/index.ts';
import { deciderSpec } from './helpers/decider-spec.ts';

const T = 1_800_000_000_000;
const given = deciderSpec(policyDecider);

const payment: MfaPolicy = { name: '결제 시 추가 인증', match: { purpose: 'payment' }, requiredChannels: ['sms', 'totp'], withinSeconds: 300 };
const put = (policy: PolicyInput, at = T): PolicyCommand => ({
  type: 'PutPolicy',
  data: { tenantId: 'tn_a', policy, at },
});
const putEvent = (p: MfaPolicy, at = T): PolicyEvent => ({ type: 'PolicyPut', data: { tenantId: 'tn_a', ...p, at } });

describe('MFA policy decider', () => {
  test('a valid policy is put, normalised', () =>
    given([]).when(put({ name: ' 결제 시 추가 인증 ', match: { purpose: 'payment', channels: [] }, requiredChannels: ['SMS', 'totp', 'sms'], withinSeconds: 300 })).then([putEvent(payment)]));

  test('the window defaults to 300 s', () =>
    given([]).when(put({ name: 'p', requiredChannels: ['push'] })).then([putEvent({ name: 'p', match: {}, requiredChannels: ['push'], withinSeconds: 300 })]));

  test('putting the same policy again changes nothing; a change is a new PolicyPut', () => {
    given([putEvent(payment)]).when(put(payment)).then([]);
    given([putEvent(payment)]).when(put({ ...payment, withinSeconds: 600 }, T + 1)).then([putEvent({ ...payment, withinSeconds: 600 }, T + 1)]);
  });

  test('invalid policies are refused with what was expected', () => {
    given([]).when(put({ name: '', requiredChannels: ['sms'] })).thenThrows('INVALID_ARGUMENT', /name/);
    given([]).when(put({ name: 'p', requiredChannels: [] })).thenThrows('INVALID_ARGUMENT', /requiredChannels: expected a non-empty list/);
    given([]).when(put({ name: 'p', requiredChannels: ['fax'] })).thenThrows('INVALID_ARGUMENT', /requiredChannels: expected channels among sms, email, totp, webauthn, push, recovery, got "fax"/);
    given([]).when(put({ name: 'p', match: { channels: ['pigeon'] }, requiredChannels: ['sms'] })).thenThrows('INVALID_ARGUMENT', /match.channels/);
    given([]).when(put({ name: 'p', requiredChannels: ['sms'], withinSeconds: 86_401 })).thenThrows('INVALID_ARGUMENT', /withinSeconds/);
  });

  test('delete removes a policy; an unknown name is NOT_FOUND', () => {
    given([putEvent(payment)]).when({ type: 'DeletePolicy', data: { tenantId: 'tn_a', name: payment.name, at: T + 1 } }).then([
      { type: 'PolicyDeleted', data: { tenantId: 'tn_a', name: payment.name, at: T + 1 } },
    ]);
    given([putEvent(payment), { type: 'PolicyDeleted', data: { tenantId: 'tn_a', name: payment.name, at: T + 1 } }])
      .when({ type: 'DeletePolicy', data: { tenantId: 'tn_a', name: payment.name, at: T + 2 } })
      .thenThrows('NOT_FOUND');
  });
});

describe('MFA policy evaluation', () => {
  const verified = (...channels: string[]) => () => new Set(channels);

  test('SMS alone for a payment needs TOTP', () =>
    assert.deepEqual(evaluatePolicies([payment], { purpose: 'payment', channel: 'sms' }, verified()), {
      ok: false,
      requiredChannels: ['totp'],
      matchedPolicies: ['결제 시 추가 인증'],
    }));

  test('the last required channel completes the policy; the channel being verified always counts', () => {
    assert.deepEqual(evaluatePolicies([payment], { purpose: 'payment', channel: 'totp' }, verified('sms')), { ok: true, matchedPolicies: ['결제 시 추가 인증'] });
    assert.deepEqual(evaluatePolicies([payment], { purpose: 'payment', channel: 'sms' }, verified('totp')), { ok: true, matchedPolicies: ['결제 시 추가 인증'] });
  });

  test('a policy matches by purpose and by channel', () => {
    assert.deepEqual(evaluatePolicies([payment], { purpose: 'login', channel: 'sms' }, verified()), { ok: true, matchedPolicies: [] });
    const smsOnly: MfaPolicy = { name: 'sms needs passkey', match: { channels: ['sms'] }, requiredChannels: ['webauthn'], withinSeconds: 60 };
    assert.deepEqual(evaluatePolicies([smsOnly], { channel: 'totp' }, verified()), { ok: true, matchedPolicies: [] });
    assert.deepEqual(evaluatePolicies([smsOnly], { channel: 'sms' }, verified()), { ok: false, requiredChannels: ['webauthn'], matchedPolicies: ['sms needs passkey'] });
  });

  test('several matching policies: the union of what is missing, and only the unsatisfied names', () => {
    const a: MfaPolicy = { name: 'a', match: {}, requiredChannels: ['sms', 'totp'], withinSeconds: 300 };
    const b: MfaPolicy = { name: 'b', match: {}, requiredChannels: ['totp', 'push'], withinSeconds: 60 };
    const c: MfaPolicy = { name: 'c', match: {}, requiredChannels: ['sms'], withinSeconds: 60 };
    assert.deepEqual(evaluatePolicies([a, b, c], { channel: 'sms' }, verified()), { ok: false, requiredChannels: ['totp', 'push'], matchedPolicies: ['a', 'b'] });
  });
});
