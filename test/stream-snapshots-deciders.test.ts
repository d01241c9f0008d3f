// The deciders opted in to stream snapshots (Decider.snapshotVersion): over generated histories,
// the fold of the whole history equals the fold of its tail on a snapshot of its head taken through
// JSON (what src/stream-snapshots stores); and each one's source is pinned to its version, so that
// a change to its evolve or state cannot ship without a new version (old snapshots then ignored).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Decider, Message } from '../src/domain/decider.ts';
import { OTP_EVENT_TYPES, otpDecider } from '../src/domain/otp/index.ts';
import { deviceDecider, inboxDecider } from '../src/domain/push/index.ts';
import { recoveryDecider } from '../src/domain/recovery/decider.ts';
import { totpDecider } from '../src/domain/totp/decider.ts';
import { webauthnDecider } from '../src/domain/webauthn/credentials.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
type AnyDecider = Pick<Decider<Message, Message, unknown>, 'initialState' | 'evolve' | 'snapshotVersion'>;

const id = fc.constantFrom('a', 'b', 'c', 'd');
const at = fc.integer({ min: 0, max: 2_000_000_000_000 });
const small = fc.nat({ max: 120 });
const text = fc.string({ maxLength: 12 });
/** An event as a load folds it: read back from the log's JSON (an absent field is absent, not undefined). */
const ev = <T extends string>(type: T, data: fc.Arbitrary<Record<string, unknown>>) => data.map((d): Message => ({ type, data: JSON.parse(JSON.stringify(d)) }));

const otpRef = fc.record({
  otpId: id,
  channel: fc.constantFrom('sms', 'email'),
  purpose: text,
  userId: fc.option(text),
  userKey: fc.option(text, { nil: undefined }),
  masked: text,
  country: fc.option(text),
  issuedAt: at,
});
const withRef = (extra: Record<string, fc.Arbitrary<unknown>>) => fc.tuple(otpRef, fc.record(extra)).map(([r, e]) => ({ ...r, ...e }));
const otpEvents: Record<(typeof OTP_EVENT_TYPES)[number], fc.Arbitrary<Message>> = {
  OtpIssued: ev('OtpIssued', withRef({ codeHash: text, destinationEnc: text, expiresAt: at, maxAttempts: small, supersedes: fc.option(id), requester: fc.option(text, { nil: undefined }) })),
  OtpDeliverySucceeded: ev('OtpDeliverySucceeded', withRef({ provider: text, providerId: fc.option(text), deliveredAt: at })),
  OtpDeliveryFailed: ev('OtpDeliveryFailed', withRef({ provider: text, reason: text, failedAt: at })),
  OtpAttemptFailed: ev('OtpAttemptFailed', withRef({ attempts: small, attemptsRemaining: small, attemptedAt: at })),
  OtpVerified: ev('OtpVerified', withRef({ attempts: small, attemptsRemaining: small, verifiedAt: at })),
  OtpLocked: ev('OtpLocked', withRef({ attempts: small, lockedAt: at })),
  OtpExpired: ev('OtpExpired', withRef({ expiresAt: at, attemptedAt: at })),
  OtpCancelled: ev('OtpCancelled', withRef({ reason: fc.constant('user_erased'), cancelledAt: at })),
  OtpLimitsReset: ev('OtpLimitsReset', fc.record({ channel: fc.constantFrom('sms', 'email'), at })),
};

/** Each opted-in decider, its source module, and its events with generated data. */
const OPTED_IN: Record<string, { decider: AnyDecider; module: string; events: fc.Arbitrary<Message> }> = {
  totp: {
    decider: totpDecider as AnyDecider,
    module: 'src/domain/totp/decider.ts',
    events: fc.oneof(
      ev('TotpEnrollmentStarted', fc.record({ secretEnc: text, algorithm: fc.constantFrom('sha1', 'sha256'), digits: fc.constantFrom(6, 8), period: fc.constantFrom(30, 60), issuer: text, accountNameMasked: fc.option(text, { nil: undefined }), startedAt: at })),
      ev('TotpEnrollmentConfirmed', fc.record({ step: small, at })),
      ev('TotpCodeAccepted', fc.record({ step: small, at })),
      ev('TotpCodeRejected', fc.record({ at, failures: small, reason: fc.constantFrom('mismatch', 'replay'), requester: fc.option(id, { nil: undefined }), requesterFailures: fc.option(small, { nil: undefined }) })),
      ev('TotpEnrollmentRemoved', fc.record({ at })),
      ev('TotpThrottleReset', fc.record({ at })),
    ),
  },
  otp: { decider: otpDecider as AnyDecider, module: 'src/domain/otp/decider.ts', events: fc.oneof(...Object.values(otpEvents)) },
  inbox: {
    decider: inboxDecider as AnyDecider,
    module: 'src/domain/push/inbox.ts',
    events: fc.oneof(ev('PushRequestOpened', fc.record({ requestId: id, at, expiresAt: at })), ev('PushRequestClosed', fc.record({ requestId: id, at }))),
  },
  devices: {
    decider: deviceDecider as AnyDecider,
    module: 'src/domain/push/devices.ts',
    events: fc.oneof(
      ev('DeviceRegistered', fc.record({ deviceId: id, tokenEnc: text, tokenHash: text, platform: fc.constantFrom('android', 'ios'), deviceName: text, at })),
      ev('DeviceUpdated', fc.record({ deviceId: id, tokenEnc: text, platform: fc.constantFrom('android', 'ios'), deviceName: text, at })),
      ev('DeviceMarkedStale', fc.record({ deviceId: id, reason: text, at })),
      ev('DeviceRemoved', fc.record({ deviceId: id, at })),
    ),
  },
  webauthn: {
    decider: webauthnDecider as AnyDecider,
    module: 'src/domain/webauthn/credentials.ts',
    events: fc.oneof(
      ev('RegistrationChallengeIssued', fc.record({ challenge: id, expiresAt: at })),
      ev('AuthenticationChallengeIssued', fc.record({ challenge: id, expiresAt: at })),
      ev('ChallengeConsumed', fc.record({ challenge: id, kind: fc.constantFrom('registration', 'authentication'), outcome: fc.constantFrom('registered', 'authenticated', 'failed'), at })),
      ev(
        'CredentialRegistered',
        fc.record({ credentialId: id, publicKey: text, counter: small, transports: fc.array(text, { maxLength: 2 }), aaguid: text, backedUp: fc.boolean(), deviceType: fc.constantFrom('singleDevice', 'multiDevice'), deviceName: text, at }),
      ),
      ev('CredentialUsed', fc.record({ credentialId: id, counter: small, backedUp: fc.boolean(), at })),
      ev('CredentialCloneSuspected', fc.record({ credentialId: id, storedCounter: small, receivedCounter: small, at })),
      ev('CredentialRemoved', fc.record({ credentialId: id, at })),
    ),
  },
  recovery: {
    decider: recoveryDecider as AnyDecider,
    module: 'src/domain/recovery/decider.ts',
    events: fc.oneof(
      ev('RecoveryCodesGenerated', fc.record({ setId: id, codeHashes: fc.array(text, { maxLength: 10 }), replaces: fc.option(id), at })),
      ev('RecoveryCodeUsed', fc.record({ setId: id, index: fc.nat({ max: 10 }), remaining: fc.nat({ max: 10 }), at })),
      ev('RecoveryCodesLow', fc.record({ setId: id, remaining: fc.nat({ max: 10 }), at })),
      ev('RecoveryCodeRejected', fc.record({ at, failures: small, reason: fc.constantFrom('mismatch', 'used') })),
      ev('RecoveryCodesRemoved', fc.record({ setId: id, at })),
    ),
  },
};

const fold = (d: AnyDecider, events: readonly Message[], from = d.initialState()) => events.reduce(d.evolve, from);

for (const [name, { decider, events }] of Object.entries(OPTED_IN)) {
  test(`${name}: the fold of a history equals the fold of its tail on a JSON snapshot of its head`, () => {
    fc.assert(
      fc.property(fc.array(events, { maxLength: 60 }), fc.nat(), (history, cut) => {
        const k = history.length === 0 ? 0 : cut % (history.length + 1);
        const head = fold(decider, history.slice(0, k));
        const snapshot: unknown = JSON.parse(JSON.stringify(head));
        assert.ok(isDeepStrictEqual(snapshot, head), 'the state survives JSON as it is (else the store skips it)');
        assert.deepStrictEqual(fold(decider, history.slice(k), snapshot), fold(decider, history));
      }),
      { numRuns: 300 },
    );
  });
}

/** The module and the modules of src/domain it imports, transitively: what its fold depends on. */
const sourcesOf = (module: string, seen = new Set<string>()): Set<string> => {
  if (seen.has(module)) return seen;
  seen.add(module);
  for (const [, spec] of readFileSync(join(ROOT, module), 'utf8').matchAll(/from '(\.[^']+)'/g)) {
    const dep = relative(ROOT, resolve(ROOT, dirname(module), spec!));
    // decider.ts (the types, assertNever) and errors.ts (DomainError) take no part in a fold.
    if (dep.startsWith('src/domain/') && !['src/domain/decider.ts', 'src/domain/errors.ts'].includes(dep)) sourcesOf(dep, seen);
  }
  return seen;
};
const hashOf = (module: string) => {
  const h = createHash('sha256');
  for (const f of [...sourcesOf(module)].sort()) h.update(f).update('\0').update(readFileSync(join(ROOT, f))).update('\0');
  return h.digest('hex').slice(0, 16);
};

const PINS = 'test/fixtures/snapshot-versions.json';

test('each opted-in decider is pinned: its sources change only with its snapshotVersion (or with the pin, when its fold is the same)', () => {
  const pins = JSON.parse(readFileSync(join(ROOT, PINS), 'utf8')) as Record<string, { snapshotVersion: number; sources: string }>;
  const now = Object.fromEntries(Object.entries(OPTED_IN).map(([name, o]) => [name, { snapshotVersion: o.decider.snapshotVersion!, sources: hashOf(o.module) }]));
  assert.deepEqual(
    now,
    pins,
    `${PINS} pins each decider that keeps snapshots to its source. Its source changed: if evolve, initialState or the state's shape changed, ` +
      `bump its snapshotVersion (snapshots folded by the old code are then ignored); then write the new values into ${PINS}:\n${JSON.stringify(now, null, 2)}`,
  );
});

test('every decider of src/domain with a snapshotVersion is covered here', async () => {
  const files = (dir: string): string[] => readdirSync(join(ROOT, dir)).flatMap((f) => (statSync(join(ROOT, dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith('.ts') ? [join(dir, f)] : []));
  const covered = new Set(Object.values(OPTED_IN).map((o) => o.decider));
  for (const f of files('src/domain')) {
    for (const [exported, value] of Object.entries(await import(join(ROOT, f)))) {
      const d = value as Partial<AnyDecider> | null;
      if (d && typeof d === 'object' && typeof d.evolve === 'function' && d.snapshotVersion !== undefined) assert.ok(covered.has(d as AnyDecider), `${f}: ${exported} has a snapshotVersion: add it to OPTED_IN`);
    }
  }
});
