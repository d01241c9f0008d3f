// Every tenant setting in one table: name, type, range, default and what it means. The tenant
// aggregate validates with it (validateSettings), the channels take their defaults from it
// (settingOf), the admin API and the CLI refuse unknown names through it, and the documentation
// and the console are generated from it. TenantSettings, the type of a tenant's settings, is
// derived from it, so a setting exists in exactly one place.
import { DomainError } from '../errors.ts';

/** The JSON value each type holds. */
type ValueOf = {
  integer: number;
  boolean: boolean;
  text: string;
  url: string;
  domain: string;
  region: string;
  regions: string[];
  origins: string[];
};
export type SettingType = keyof ValueOf;

export type SettingGroup = 'general' | 'privacy' | 'limits' | 'otp' | 'sms' | 'totp' | 'recovery' | 'webauthn' | 'push';

/** One row of the table. `default` is the value a channel uses while the setting is unset; null
 * when the default is derived from something else, which `defaultNote` then names. */
export type SettingSpec = {
  type: SettingType;
  group: SettingGroup;
  description: string;
  default: number | boolean | string | readonly string[] | null;
  defaultNote?: string;
  /** integer: inclusive range. */
  min?: number;
  max?: number;
  unit?: 'seconds' | 'days' | 'digits' | 'attempts' | 'codes' | 'requests';
  /** text: longest value. */
  maxLength?: number;
};

export const TENANT_SETTINGS = {
  webhookUrl: {
    type: 'url',
    group: 'general',
    default: null,
    defaultNote: 'none: no webhooks are sent',
    description: 'Where outcome events are POSTed (absolute http(s) URL); "" removes it. A secret is created with the tenant or by rotating it.',
  },
  brandName: {
    type: 'text',
    group: 'general',
    maxLength: 100,
    default: null,
    defaultNote: 'the tenant name',
    description: 'Shown in messages ("[Brand] your code is ...").',
  },
  retentionDays: {
    type: 'integer',
    group: 'privacy',
    min: 0,
    max: 3650,
    unit: 'days',
    default: 0,
    description:
      'Personal data (user id, masked destination, client IP, device) of verification events older than this is shredded, within a day after, by a scheduled job; the events stay for statistics. Enrollments are kept until removed or the user is erased. 0: kept (see docs/privacy.md).',
  },
  defaultRegion: {
    type: 'region',
    group: 'sms',
    default: 'KR',
    description: 'ISO 3166 alpha-2 region used to read phone numbers given in national form (e.g. 01012345678).',
  },
  otpLength: { type: 'integer', group: 'otp', min: 4, max: 10, unit: 'digits', default: 6, description: 'Digits per one-time code (SMS and email).' },
  otpTtlSeconds: { type: 'integer', group: 'otp', min: 30, max: 3600, unit: 'seconds', default: 180, description: 'Lifetime of a one-time code.' },
  otpMaxAttempts: { type: 'integer', group: 'otp', min: 1, max: 20, unit: 'attempts', default: 5, description: 'Wrong attempts per code before it locks (TOO_MANY_ATTEMPTS).' },
  otpResendCooldownSeconds: {
    type: 'integer',
    group: 'otp',
    min: 0,
    max: 3600,
    unit: 'seconds',
    default: 30,
    description: 'Time before a new code may be sent to the same destination (RESEND_TOO_SOON); 0 turns it off.',
  },
  otpWebDomain: {
    type: 'domain',
    group: 'otp',
    default: null,
    defaultNote: 'none: no WebOTP line',
    description: 'When set, SMS texts end with the WebOTP line "@<domain> #<code>" so browsers can fill the code in; "" removes it.',
  },
  smsPerDestinationHour: {
    type: 'integer',
    group: 'sms',
    min: 0,
    max: 1000,
    unit: 'codes',
    default: 5,
    description: "Codes one requester (the end user's address when the request carries X-SecureKey-End-User-IP, else the API key) may have sent to one destination per rolling hour (DESTINATION_LIMIT); 0: no cap. SMS and email.",
  },
  smsPerDestinationDay: { type: 'integer', group: 'sms', min: 0, max: 10_000, unit: 'codes', default: 10, description: 'Codes one requester may have sent to one destination per rolling 24 hours; 0: no cap.' },
  smsPerDestinationBurst: {
    type: 'integer',
    group: 'sms',
    min: 0,
    max: 10_000,
    unit: 'codes',
    default: 10,
    description: 'Codes sent to one destination per 10 minutes by all requesters together (against bombing from many addresses; what it can deny lasts at most 10 minutes); 0: no cap.',
  },
  smsDailyQuota: { type: 'integer', group: 'sms', min: 0, max: 100_000_000, unit: 'codes', default: 1000, description: 'SMS codes the tenant may send per UTC day (TENANT_QUOTA_EXCEEDED); 0: no quota.' },
  smsAllowedCountries: {
    type: 'regions',
    group: 'sms',
    default: null,
    defaultNote: 'the default region only',
    description: 'ISO 3166 alpha-2 regions phone numbers may belong to (COUNTRY_NOT_ALLOWED otherwise).',
  },
  totpIssuer: { type: 'text', group: 'totp', maxLength: 100, default: null, defaultNote: 'the tenant name', description: 'Issuer shown by authenticator apps when the request names none.' },
  recoveryCodeCount: {
    type: 'integer',
    group: 'recovery',
    min: 5,
    max: 20,
    unit: 'codes',
    default: 10,
    description: 'Recovery codes per generated set (each single-use, 60 bits of entropy); a new set replaces the whole previous one.',
  },
  webauthnRpId: {
    type: 'text',
    group: 'webauthn',
    maxLength: 100,
    default: null,
    defaultNote: "the host of SECUREKEY_PUBLIC_URL",
    description: 'Passkey relying party id: the domain passkeys are bound to.',
  },
  webauthnRpName: { type: 'text', group: 'webauthn', maxLength: 100, default: null, defaultNote: 'the tenant name', description: 'Relying party name shown by the browser during a passkey ceremony.' },
  webauthnOrigins: {
    type: 'origins',
    group: 'webauthn',
    default: null,
    defaultNote: 'the origin of SECUREKEY_PUBLIC_URL',
    description: 'Origins (scheme://host[:port]) of the pages that run passkey ceremonies.',
  },
  pushTtlSeconds: { type: 'integer', group: 'push', min: 30, max: 3600, unit: 'seconds', default: 120, description: 'Lifetime of a push approval request.' },
  pushNumberMatching: { type: 'boolean', group: 'push', default: false, description: 'Number matching: the login screen shows a number the user picks on the device.' },
  pushMaxPending: {
    type: 'integer',
    group: 'push',
    min: 0,
    max: 200,
    unit: 'requests',
    default: 3,
    description: 'Push requests a user may have pending at once (TOO_MANY_PENDING, against push fatigue); 0: no cap.',
  },
  rateLimitGlobal: {
    type: 'integer',
    group: 'limits',
    min: 0,
    max: 1_000_000,
    unit: 'requests',
    default: 0,
    description: "Requests per rate-limit window per (tenant, address): the end user's address when the request carries X-SecureKey-End-User-IP, else the caller's; 0: the server's SECUREKEY_RATE_LIMIT_GLOBAL.",
  },
  rateLimitSend: {
    type: 'integer',
    group: 'limits',
    min: 0,
    max: 1_000_000,
    unit: 'requests',
    default: 0,
    description: 'Code sends (SMS, email, push) per window per (tenant, address), as rateLimitGlobal; 0: the server\'s SECUREKEY_RATE_LIMIT_SEND.',
  },
  rateLimitVerify: {
    type: 'integer',
    group: 'limits',
    min: 0,
    max: 1_000_000,
    unit: 'requests',
    default: 0,
    description: 'Verification attempts per window per (tenant, address), as rateLimitGlobal; 0: the server\'s SECUREKEY_RATE_LIMIT_VERIFY.',
  },
  rateLimitPerKey: {
    type: 'integer',
    group: 'limits',
    min: 0,
    max: 10_000_000,
    unit: 'requests',
    default: 0,
    description: 'Requests per window with one API key, whatever the address; 0: the server\'s SECUREKEY_RATE_LIMIT_PER_KEY.',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof TENANT_SETTINGS;

/** A tenant's settings, partial: an unset setting takes its default. */
export type TenantSettings = { [K in SettingName]?: ValueOf[(typeof TENANT_SETTINGS)[K]['type']] };

const NAMES = Object.keys(TENANT_SETTINGS) as SettingName[];
export const isSettingName = (name: string): name is SettingName => Object.hasOwn(TENANT_SETTINGS, name);

/** The refusal for names that are not settings, naming every one of them. */
export const unknownSettings = (names: readonly string[]) =>
  new DomainError('INVALID_ARGUMENT', `unknown ${names.length === 1 ? 'setting' : 'settings'} ${names.map((n) => JSON.stringify(n.slice(0, 64))).join(', ')}; known settings: ${NAMES.join(', ')}`);

const REGION = /^[A-Z]{2}$/;
const MAX_URL = 2048;
const ORIGIN = /^https?:\/\/[^/]+$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

const isHttpUrl = (v: string) => {
  try {
    return /^https?:$/.test(new URL(v).protocol);
  } catch {
    return false;
  }
};

/** What a setting of the spec accepts, for messages ("an integer from 4 to 10"). */
export const expectedOf = (s: SettingSpec): string => {
  switch (s.type) {
    case 'integer':
      return `an integer from ${s.min} to ${s.max}`;
    case 'boolean':
      return 'true or false';
    case 'text':
      return `a string of at most ${s.maxLength} characters`;
    case 'url':
      return `an absolute http(s) URL of at most ${MAX_URL} characters, or "" to remove it`;
    case 'domain':
      return 'a domain name like "example.com", or "" to remove it';
    case 'region':
      return 'an ISO 3166 alpha-2 region code like "KR"';
    case 'regions':
      return 'a list of ISO 3166 alpha-2 region codes like ["KR", "US"]';
    case 'origins':
      return 'a list of origins like "https://example.com" (scheme://host[:port], no path)';
  }
};

/** One value checked against its spec and normalised (regions upper-cased, domains lower-cased);
 * undefined when it does not fit. "" clears a text, URL or domain setting. */
const normalise = (s: SettingSpec, v: unknown): unknown => {
  switch (s.type) {
    case 'integer':
      return Number.isInteger(v) && (v as number) >= (s.min ?? -Infinity) && (v as number) <= (s.max ?? Infinity) ? v : undefined;
    case 'boolean':
      return typeof v === 'boolean' ? v : undefined;
    case 'text':
      return typeof v === 'string' && v.length <= (s.maxLength ?? Infinity) ? v : undefined;
    case 'url':
      return typeof v === 'string' && (v === '' || (v.length <= MAX_URL && isHttpUrl(v))) ? v : undefined;
    case 'domain':
      return typeof v === 'string' && (v === '' || DOMAIN.test(v)) ? v.toLowerCase() : undefined;
    case 'region':
      return typeof v === 'string' && REGION.test(v.toUpperCase()) ? v.toUpperCase() : undefined;
    case 'regions':
      return Array.isArray(v) && v.every((c) => typeof c === 'string' && REGION.test(c.toUpperCase())) ? v.map((c: string) => c.toUpperCase()) : undefined;
    case 'origins':
      return Array.isArray(v) && v.every((o) => typeof o === 'string' && ORIGIN.test(o)) ? [...v] : undefined;
  }
};

/** Checks settings against the table; returns them normalised, without unset (undefined or null)
 * values. Refuses unknown names (all of them named) and values out of type or range. */
export const validateSettings = (input: Readonly<Record<string, unknown>>): TenantSettings => {
  const unknown = Object.keys(input).filter((k) => !isSettingName(k));
  if (unknown.length) throw unknownSettings(unknown);
  const out: Record<string, unknown> = {};
  for (const name of NAMES) {
    const v = input[name];
    if (v === undefined || v === null) continue;
    const spec: SettingSpec = TENANT_SETTINGS[name];
    const value = normalise(spec, v);
    if (value === undefined) throw new DomainError('INVALID_ARGUMENT', `settings.${name}: expected ${expectedOf(spec)}`);
    out[name] = value;
  }
  // Each value was checked against its own row above.
  return out as TenantSettings;
};

type NamesOfType<T extends SettingType> = { [K in SettingName]: (typeof TENANT_SETTINGS)[K]['type'] extends T ? K : never }[SettingName];

/** An integer setting's value, or its default from the table. */
export const integerSetting = (settings: TenantSettings | undefined, name: NamesOfType<'integer'>): number => settings?.[name] ?? TENANT_SETTINGS[name].default;

/** A boolean setting's value, or its default from the table. */
export const booleanSetting = (settings: TenantSettings | undefined, name: NamesOfType<'boolean'>): boolean => settings?.[name] ?? TENANT_SETTINGS[name].default;

/** A setting's value from text (the CLI's `--set name=value`): integers, true/false, and
 * comma-separated lists, by the table's type; the text itself for an unknown name. Checked (and
 * unknown names refused) by validateSettings afterwards. */
export const parseSettingText = (name: string, text: string): unknown => {
  if (!isSettingName(name)) return text;
  const t = text.trim();
  switch (TENANT_SETTINGS[name].type) {
    case 'integer':
      return /^-?\d+$/.test(t) ? Number(t) : t;
    case 'boolean':
      return t === 'true' ? true : t === 'false' ? false : t;
    case 'regions':
    case 'origins':
      return t === '' ? [] : t.split(',').map((s) => s.trim());
    default:
      return text;
  }
};
