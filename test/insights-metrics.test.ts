// What each event counts for in the insights (projections/insights/metrics.ts), for the channels
// the live admin test does not drive: recovery codes count like TOTP codes, and the code that
// confirms a TOTP enrolment is a verification like the later ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { insightsOf } from '../projections/insights/metrics.ts';

const metrics = (counts: readonly { channel: string; metric: string }[]) => counts.map((c) => `${c.channel}.${c.metric}`);

test('a recovery code used counts as started and verified; rejected as failed, a reused one as a replay, throttled once a delay applies', () => {
  assert.deepEqual(metrics(insightsOf('RecoveryCodeUsed', { setId: 's', index: 0, remaining: 9, at: 1 }, 2)), ['recovery.started', 'recovery.verified']);
  assert.deepEqual(metrics(insightsOf('RecoveryCodeRejected', { at: 1, failures: 1, reason: 'mismatch' }, 2)), ['recovery.started', 'recovery.failed']);
  assert.deepEqual(metrics(insightsOf('RecoveryCodeRejected', { at: 1, failures: 1, reason: 'used' }, 2)), ['recovery.started', 'recovery.replay']);
  assert.deepEqual(metrics(insightsOf('RecoveryCodeRejected', { at: 1, failures: 10, reason: 'mismatch' }, 2)), ['recovery.started', 'recovery.failed', 'recovery.throttled']);
  assert.deepEqual(insightsOf('RecoveryCodesGenerated', { setId: 's', codeHashes: [], replaces: null, at: 1 }, 2), []);
});

test('the TOTP code that confirms an enrolment counts as started and verified, like an accepted one', () => {
  assert.deepEqual(metrics(insightsOf('TotpEnrollmentConfirmed', { step: 1, at: 1 }, 2)), ['totp.started', 'totp.verified']);
  assert.deepEqual(metrics(insightsOf('TotpCodeAccepted', { step: 2, at: 1 }, 2)), ['totp.started', 'totp.verified']);
});
