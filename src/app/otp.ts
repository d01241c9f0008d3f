// The OTP application service (SMS and email), transport-agnostic: the API maps requests to
// send/verify and DomainErrors to statuses. Order of a send: normalise the destination → country
// allow-list → tenant daily quota (from the otp-counters projection) → IssueOtp (the aggregate
// enforces the per-destination caps and the resend cooldown) → deliver → record the outcome. The code
// is persisted (as an HMAC) before delivery; a provider failure is recorded (OtpDeliveryFailed,
// which leaves that code unusable) and answered UNAVAILABLE.
import { randomInt } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.ts';
import { type CallerInfo, callerMetadata } from './caller.ts';
import { MAX_LENGTH, textField } from './input.ts';
import { requesterOf } from './requester.ts';
import { type NewId, randomId } from './ids.ts';
import { normaliseEmail, normalisePhone } from '../domain/destination.ts';
import { DomainError } from '../domain/errors.ts';
import { type OtpChannel, type OtpIssued, type OtpRef, otpDecider, otpStream, verifyAnswer } from '../domain/otp/index.ts';
import { integerSetting, type SettingName, TENANT_SETTINGS, type TenantSettings, validateSettings } from '../domain/tenant/index.ts';
import type { EventLog } from './event-log.ts';
import type { UserKeys } from './user-keys.ts';
import type { EventMetadata } from '../eventstore/port.ts';
import type { EmailSender } from '../senders/email/port.ts';
import type { SmsSender } from '../senders/sms/port.ts';
import { deliveryFailureReason } from '../senders/sms/provider-error.ts';
import { renderOtpEmail, renderOtpSms } from '../senders/templates.ts';

/** Who is calling; all four go into every event's metadata. */
export type Caller = CallerInfo;

/** The OTP channel's view of the tenant settings (settings.ts), every default filled in. */
export type OtpSettings = {
  length: number;
  ttlSeconds: number;
  maxAttempts: number;
  resendCooldownSeconds: number;
  perDestinationHour: number;
  perDestinationDay: number;
  /** Codes to one destination from all requesters per 10 minutes. */
  perDestinationBurst: number;
  dailyQuota: number;
  /** ISO regions phone numbers may belong to: smsAllowedCountries, else [defaultRegion]. */
  allowedCountries: string[];
  defaultRegion: string;
  brandName?: string;
  webOtpDomain?: string;
};

/** The settings the OTP channel reads. */
const OTP_SETTINGS = [
  'otpLength',
  'otpTtlSeconds',
  'otpMaxAttempts',
  'otpResendCooldownSeconds',
  'smsPerDestinationHour',
  'smsPerDestinationDay',
  'smsPerDestinationBurst',
  'smsDailyQuota',
  'smsAllowedCountries',
  'defaultRegion',
  'brandName',
  'otpWebDomain',
] as const satisfies readonly SettingName[];

/** The tenant's OTP settings checked against the table (only those: another channel's settings
 * are not this channel's business) with the table's defaults filled in. Throws INVALID_ARGUMENT. */
export const resolveOtpSettings = (tenant: TenantSettings = NO_SETTINGS): OtpSettings => {
  const known = resolved.get(tenant);
  if (known) return known;
  const s = Object.freeze(resolveFresh(tenant));
  if (Object.isFrozen(tenant)) resolved.set(tenant, s); // a frozen tenant's settings cannot change under us
  return s;
};

const NO_SETTINGS: TenantSettings = Object.freeze({});
/** Per tenant settings object (the authenticated caller's, held in memory and frozen: see
 * projections/tenants findCaller), so that a call does not check the settings table again. */
const resolved = new WeakMap<TenantSettings, OtpSettings>();

const resolveFresh = (tenant: TenantSettings): OtpSettings => {
  const t = validateSettings(Object.fromEntries(OTP_SETTINGS.map((k) => [k, tenant[k]])));
  const defaultRegion = t.defaultRegion ?? TENANT_SETTINGS.defaultRegion.default;
  return {
    length: integerSetting(t, 'otpLength'),
    ttlSeconds: integerSetting(t, 'otpTtlSeconds'),
    maxAttempts: integerSetting(t, 'otpMaxAttempts'),
    resendCooldownSeconds: integerSetting(t, 'otpResendCooldownSeconds'),
    perDestinationHour: integerSetting(t, 'smsPerDestinationHour'),
    perDestinationDay: integerSetting(t, 'smsPerDestinationDay'),
    perDestinationBurst: integerSetting(t, 'smsPerDestinationBurst'),
    dailyQuota: integerSetting(t, 'smsDailyQuota'),
    allowedCountries: t.smsAllowedCountries?.length ? t.smsAllowedCountries : [defaultRegion],
    defaultRegion,
    brandName: t.brandName || undefined,
    webOtpDomain: t.otpWebDomain || undefined,
  };
};

/** Read side of the tenant's daily quota (projections/otp-counters: createOtpCountersFromDb). The
 * per-destination caps are not read here: the OTP aggregate decides them on its own stream. */
export type OtpCounters = {
  /** Codes the tenant sent on the channel since sinceMs (failed deliveries excluded): exact
   * whenever the answer is `limit` or more; below it, possibly an upper bound (the read model
   * need not wait to show that the quota is far away: see ReadYourWrites.countBelow). */
  tenantSends: (q: { tenantId: string; channel: OtpChannel; sinceMs: number; limit: number }) => number | Promise<number>;
};

export type OtpServiceDeps = {
  events: EventLog;
  users: UserKeys;
  keyring: Keyring;
  now: () => number;
  smsSender: SmsSender;
  emailSender: EmailSender;
  counters: OtpCounters;
  /** Default: generateOtpCode (crypto.randomInt). */
  generateCode?: (length: number) => string;
  /** Default: randomId. */
  newId?: NewId;
  /** Conflict retries per command (racing verifies). Default 64. */
  maxRetries?: number;
  /** pino-like; gets no code and no destination in clear. */
  logger?: { warn: (obj: object, msg: string) => void };
};

export type SendOtpRequest = {
  channel: OtpChannel;
  /** Phone (national or E.164) for sms, address for email. */
  destination: string;
  /** Default "login". */
  purpose?: string;
  userId?: string;
  locale?: string;
  /** The tenant's settings; unset ones take the table's defaults. */
  settings?: TenantSettings;
  /** The brand the texts name when the settings set no brandName (the tenant's name). */
  defaultBrandName?: string;
};

export type SendOtpResult = {
  /** Seconds until the code expires. */
  expiresIn: number;
  /** Epoch ms. */
  expiresAt: number;
  /** Seconds until a new code may be requested. */
  resendAfter: number;
  /** The masked destination. */
  to: string;
  /** Global position of the last appended event (read-your-writes). */
  position: number;
};

export type VerifyOtpRequest = {
  channel: OtpChannel;
  destination: string;
  code: string;
  /** Only defaultRegion is used (to read a national number). */
  settings?: TenantSettings;
};

export type VerifyOtpResult = {
  verified: boolean;
  attemptsRemaining: number;
  /** Set when verified. */
  userId?: string;
  purpose?: string;
  position: number;
};

export type OtpService = {
  send: (caller: Caller, req: SendOtpRequest) => Promise<SendOtpResult>;
  verify: (caller: Caller, req: VerifyOtpRequest) => Promise<VerifyOtpResult>;
};

/** A code of `length` digits from the CSPRNG (uniform, leading zeros kept). */
export const generateOtpCode = (length: number): string => String(randomInt(0, 10 ** length)).padStart(length, '0');

/** The code's keyed hash, bound to its stream (equal codes on two streams hash differently). */
export const hashOtpCode = (keyring: Keyring, stream: string, code: string): string => keyring.hmac('otp-code', `${stream}:${code}`);

const PURPOSE = /^[A-Za-z0-9_.-]{1,64}$/;
const HOUR = 3600_000;
const DAY = 24 * HOUR;


const checkChannel = (channel: unknown): OtpChannel => {
  if (channel === 'sms' || channel === 'email') return channel;
  throw new DomainError('INVALID_ARGUMENT', `expected channel "sms" or "email", got ${JSON.stringify(channel)}`);
};

/** Normalised destination (where the message goes), the key that identifies it (hashed for its
 * stream and counters: an email address compared case-insensitively), its masked form and (phones)
 * its country. */
const destinationOf = (channel: OtpChannel, input: string, defaultRegion: string) => {
  if (channel === 'sms') {
    const p = normalisePhone(input, defaultRegion);
    return { normalised: p.e164, key: p.e164, masked: p.masked, country: p.country as string | null };
  }
  const e = normaliseEmail(input);
  return { normalised: e.address, key: e.key, masked: e.masked, country: null };
};

export const createOtpService = (deps: OtpServiceDeps): OtpService => {
  const { events, users, keyring, counters } = deps;
  const generateCode = deps.generateCode ?? generateOtpCode;
  const newId = deps.newId ?? randomId;
  const maxRetries = deps.maxRetries ?? 64;

  const checkQuota = async (caller: Caller, channel: OtpChannel, s: OtpSettings, now: number) => {
    if (channel !== 'sms' || s.dailyQuota <= 0) return;
    const dayStart = now - (now % DAY);
    const sent = await counters.tenantSends({ tenantId: caller.tenantId, channel, sinceMs: dayStart, limit: s.dailyQuota });
    if (sent >= s.dailyQuota) {
      const retryAfterSeconds = Math.ceil((dayStart + DAY - now) / 1000);
      throw new DomainError('TENANT_QUOTA_EXCEEDED', `the tenant's daily SMS quota of ${s.dailyQuota} is used up; it resets at 00:00 UTC (in ${retryAfterSeconds} s)`, { retryAfterSeconds });
    }
  };

  const deliver = async (channel: OtpChannel, to: string, req: SendOtpRequest, s: OtpSettings, code: string, purpose: string) => {
    const ctx = { code, purpose, locale: req.locale, ttlSeconds: s.ttlSeconds, brandName: s.brandName || req.defaultBrandName, webOtpDomain: s.webOtpDomain };
    const sender = channel === 'sms' ? deps.smsSender : deps.emailSender;
    try {
      const r = channel === 'sms' ? await deps.smsSender.send({ to, text: renderOtpSms(ctx) }) : await deps.emailSender.send({ to, ...renderOtpEmail(ctx) });
      return { provider: sender.name, ok: true as const, providerId: r.providerId ?? null };
    } catch (err) {
      return { provider: sender.name, ok: false as const, reason: deliveryFailureReason(err) };
    }
  };

  const send: OtpService['send'] = async (caller, req) => {
    const channel = checkChannel(req.channel);
    const s = resolveOtpSettings(req.settings);
    const purpose = req.purpose?.trim() || 'login';
    if (!PURPOSE.test(purpose)) throw new DomainError('INVALID_ARGUMENT', 'expected purpose as 1–64 letters, digits, "_", "-" or "." (e.g. "login")');
    const userId = req.userId?.trim() || null;
    if (userId !== null && userId.length > MAX_LENGTH.userId) throw new DomainError('INVALID_ARGUMENT', `expected userId of at most ${MAX_LENGTH.userId} characters, got ${userId.length}`);
    textField('locale', req.locale, MAX_LENGTH.locale);

    const dest = destinationOf(channel, req.destination, s.defaultRegion);
    if (channel === 'sms' && !s.allowedCountries.includes(dest.country as string)) {
      throw new DomainError('COUNTRY_NOT_ALLOWED', `sending to numbers of ${dest.country} is not enabled for this tenant (allowed: ${s.allowedCountries.join(', ')})`);
    }
    const destinationHash = keyring.hmac('destination', dest.key);
    await checkQuota(caller, channel, s, deps.now());

    const stream = otpStream(caller.tenantId, channel, destinationHash);
    const code = generateCode(s.length);
    // The code's user, by stream key: whose data key seals its events, and whom an erasure cancels it for.
    const userKey = userId === null ? null : await users.of(caller.tenantId, userId);
    const metadata = callerMetadata(caller);
    const issued = await events.handle(stream, otpDecider, {
      type: 'IssueOtp',
      data: {
        otpId: newId(),
        channel,
        purpose,
        userId,
        userKey,
        masked: dest.masked,
        country: dest.country,
        codeHash: hashOtpCode(keyring, stream, code),
        destinationEnc: keyring.encrypt('destination', dest.normalised),
        requester: requesterOf(keyring, caller),
        now: deps.now(),
        policy: { ttlSeconds: s.ttlSeconds, maxAttempts: s.maxAttempts, resendCooldownSeconds: s.resendCooldownSeconds },
        caps: { perRequesterHour: s.perDestinationHour, perRequesterDay: s.perDestinationDay, burst: s.perDestinationBurst },
      },
    }, { metadata, maxRetries });
    const { data } = issued.events[0] as OtpIssued;
    const ref: OtpRef = { otpId: data.otpId, channel, purpose, userId, userKey, masked: data.masked, country: data.country, issuedAt: data.issuedAt };

    const outcome = await deliver(channel, dest.normalised, req, s, code, purpose);
    const recorded = await events.handle(stream, otpDecider, { type: 'RecordOtpDelivery', data: { ref, now: deps.now(), ...outcome } }, { metadata, maxRetries });
    if (!outcome.ok) {
      deps.logger?.warn({ tenantId: caller.tenantId, requestId: caller.requestId, channel, country: dest.country, provider: outcome.provider, reason: outcome.reason }, 'otp delivery failed');
      throw new DomainError('UNAVAILABLE', `the ${channel === 'sms' ? 'SMS' : 'email'} provider did not take the message (${outcome.reason}); no code was sent, retry later`);
    }
    return { expiresIn: s.ttlSeconds, expiresAt: data.expiresAt, resendAfter: s.resendCooldownSeconds, to: dest.masked, position: recorded.position };
  };

  const verify: OtpService['verify'] = async (caller, req) => {
    const channel = checkChannel(req.channel);
    const code = typeof req.code === 'string' ? req.code.trim() : '';
    if (!/^\d{1,12}$/.test(code)) throw new DomainError('INVALID_ARGUMENT', 'expected the code as a string of digits (e.g. "123456")');
    const region = resolveOtpSettings(req.settings).defaultRegion;
    const dest = destinationOf(channel, req.destination, region);
    const stream = otpStream(caller.tenantId, channel, keyring.hmac('destination', dest.key));
    const res = await events.handle(stream, otpDecider, { type: 'VerifyOtp', data: { candidateHash: hashOtpCode(keyring, stream, code), now: deps.now() } }, { metadata: callerMetadata(caller), maxRetries });
    const answer = verifyAnswer(res.events);
    return answer.verified
      ? { verified: true, attemptsRemaining: answer.attemptsRemaining, purpose: answer.purpose, ...(answer.userId !== null && { userId: answer.userId }), position: res.position }
      : { verified: false, attemptsRemaining: answer.attemptsRemaining, position: res.position };
  };

  return { send, verify };
};

/** Earlier sends to the destination stop counting against its caps and its resend cooldown is
 * lifted; reset:false (nothing written) when no code was ever sent to it. */
export const resetOtpLimits = (
  deps: { events: EventLog; keyring: Keyring; now: () => number },
  tenantId: string,
  req: { channel: OtpChannel; destination: string; settings?: TenantSettings },
  metadata: EventMetadata,
): (() => Promise<{ reset: boolean; position: number }>) => {
  // Checked now, run later: a reset of several limits checks every input before it writes any.
  const channel = checkChannel(req.channel);
  const dest = destinationOf(channel, req.destination, resolveOtpSettings(req.settings).defaultRegion);
  return async () => {
    const stream = otpStream(tenantId, channel, deps.keyring.hmac('destination', dest.key));
    if ((await deps.events.store.readStream(stream)).length === 0) return { reset: false, position: 0 };
    const res = await deps.events.handle(stream, otpDecider, { type: 'ResetOtpLimits', data: { channel, now: deps.now() } }, { metadata: { ...metadata, tenantId } });
    return { reset: true, position: res.position };
  };
};
