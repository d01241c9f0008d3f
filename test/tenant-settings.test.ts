// The tenant aggregate owns its settings: one table (settings.ts) of names, types, ranges,
// defaults and meanings, used by the aggregate, the channels and the CLI.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveOtpSettings } from '../src/app/otp.ts';
import { parseSettingText, type SettingSpec, TENANT_SETTINGS, type TenantCommand, type TenantEvent, tenantDecider } from '../src/domain/tenant/index.ts';
import { runSettingsList, settingsFromArgs } from '../src/cli/settings.ts';
import { deciderSpec } from './helpers/decider-spec.ts';

const given = deciderSpec(tenantDecider);
const T = 1_800_000_000_000;
const created: TenantEvent = { type: 'TenantCreated', data: { tenantId: 'tn_a', name: 'Acme', settings: {}, at: T } };
const change = (settings: Record<string, unknown>): TenantCommand => ({ type: 'ChangeTenantSettings', data: { settings, now: T + 1 } });
const changed = (settings: Record<string, unknown>): TenantEvent => ({ type: 'TenantSettingsChanged', data: { tenantId: 'tn_a', settings, at: T + 1 } });

describe('the table of tenant settings', () => {
  test('every setting has a type, a group, a meaning, and a default or a note saying where it comes from', () => {
    for (const [name, spec] of Object.entries(TENANT_SETTINGS) as [string, SettingSpec][]) {
      assert.ok(spec.description.length > 10, `${name}: description`);
      assert.ok(spec.default !== null || spec.defaultNote, `${name}: default`);
      if (spec.type === 'integer') {
        assert.ok(Number.isInteger(spec.min) && Number.isInteger(spec.max) && spec.min! <= spec.max!, `${name}: range`);
        assert.ok(typeof spec.default === 'number' && spec.default >= spec.min! && spec.default <= spec.max!, `${name}: default within its range`);
      }
      if (spec.type === 'text') assert.ok(spec.maxLength, `${name}: maxLength`);
    }
  });

  test('the OTP channel takes its defaults from the table (6 digits, 180 s, 5 attempts, 30 s cooldown)', () => {
    assert.deepEqual(resolveOtpSettings({}), {
      length: 6,
      ttlSeconds: 180,
      maxAttempts: 5,
      resendCooldownSeconds: 30,
      perDestinationHour: 5,
      perDestinationDay: 10,
      perDestinationBurst: 10,
      dailyQuota: 1000,
      allowedCountries: ['KR'],
      defaultRegion: 'KR',
      brandName: undefined,
      webOtpDomain: undefined,
    });
    assert.equal(resolveOtpSettings({ otpLength: 8 }).length, 8);
  });
});

describe('the tenant aggregate validates settings with the table', () => {
  test('values in range are recorded, normalised (regions upper-cased, domains lower-cased)', () =>
    given([created])
      .when(change({ otpMaxAttempts: 20, smsAllowedCountries: ['kr', 'Us'], otpWebDomain: 'Login.Example.com', pushNumberMatching: true }))
      .then([changed({ otpMaxAttempts: 20, smsAllowedCountries: ['KR', 'US'], otpWebDomain: 'login.example.com', pushNumberMatching: true })]));

  test('one range for the aggregate and the channels: otpMaxAttempts 50 is refused where it is decided', () => {
    given([created]).when(change({ otpMaxAttempts: 50 })).thenThrows('INVALID_ARGUMENT', /settings\.otpMaxAttempts: expected an integer from 1 to 20/);
    given([created]).when(change({ otpMaxAttempts: 0 })).thenThrows('INVALID_ARGUMENT', /from 1 to 20/);
    given([created]).when(change({ pushMaxPending: 201 })).thenThrows('INVALID_ARGUMENT', /settings\.pushMaxPending: expected an integer from 0 to 200/);
    given([created]).when(change({ otpLength: '6' })).thenThrows('INVALID_ARGUMENT', /settings\.otpLength/);
    given([created]).when(change({ webauthnOrigins: ['https://example.com/login'] })).thenThrows('INVALID_ARGUMENT', /no path/);
    given([]).when({ type: 'CreateTenant', data: { tenantId: 'tn_b', name: 'B', settings: { otpMaxAttempts: 50 }, key: { keyId: 'k', keyHash: 'h', prefix: 'p', name: 'default', at: T }, now: T } }).thenThrows('INVALID_ARGUMENT', /otpMaxAttempts/);
  });

  test('unknown setting names are refused, every one of them named', () => {
    given([created]).when(change({ otpLenght: 8, otpLength: 8, smsQuota: 5 })).thenThrows('INVALID_ARGUMENT', /unknown settings "otpLenght", "smsQuota"; known settings: webhookUrl, brandName/);
    given([created]).when(change({ colour: 'red' })).thenThrows('INVALID_ARGUMENT', /unknown setting "colour"/);
  });

  test('the channels get a checked value: the OTP channel refuses what the table refuses', () => {
    assert.throws(() => resolveOtpSettings({ otpLength: 3 }), /settings\.otpLength: expected an integer from 4 to 10/);
    // Another channel's settings are not the OTP channel's business (a value stored before the table capped it).
    assert.equal(resolveOtpSettings({ pushMaxPending: 500 }).length, 6);
  });
});

describe('settings from the CLI', () => {
  test('--set values are read by the table types: integers, booleans, comma-separated lists', () => {
    assert.deepEqual(settingsFromArgs(['otpLength=8', 'pushNumberMatching=true', 'smsAllowedCountries=KR, US', 'brandName=Acme Pay']), {
      otpLength: 8,
      pushNumberMatching: true,
      smsAllowedCountries: ['KR', 'US'],
      brandName: 'Acme Pay',
    });
    assert.equal(parseSettingText('otpLength', 'eight'), 'eight'); // refused by the aggregate, with the range
    assert.throws(() => settingsFromArgs(['otpLength']), /--set: expected NAME=VALUE/);
  });
});

test('`settings list` prints every setting of the table with its range, default and meaning', () => {
  let human = '';
  let json: Record<string, unknown> = {};
  runSettingsList((h, j) => ((human = h), (json = j)));
  assert.deepEqual((json.settings as { name: string }[]).map((s) => s.name), Object.keys(TENANT_SETTINGS));
  assert.match(human, /otpMaxAttempts \(an integer from 1 to 20; default 5\)\n {4}Wrong attempts per code/);
  assert.match(human, /brandName \(a string of at most 100 characters; default the tenant name\)/);
});
