// TOTP application service: otplib does the crypto, the decider keeps the rules (confirm on first
// code, no step accepted twice, growing delays after failures).
import { generateSecret, generateURI, verifySync } from 'otplib';
import { otpCrypto } from '../crypto/otp-crypto.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { type CallerInfo, callerMetadata } from './caller.ts';
import { MAX_LENGTH, textField } from './input.ts';
import { requireUserId } from './user-id.ts';
import { requesterOf } from './requester.ts';
import { DomainError } from '../domain/errors.ts';
import { isLocked, retryAfterSeconds, totpDecider, totpStreamName } from '../domain/totp/decider.ts';
import type { TotpAlgorithm, TotpCommand } from '../domain/totp/types.ts';
import type { EventLog } from './event-log.ts';
import type { UserKeys } from './user-keys.ts';
import type { EventMetadata } from '../eventstore/port.ts';

/** Who is calling; all four fields go into every event's metadata. */
export type { CallerInfo } from './caller.ts';

export type TotpSettings = { algorithm?: TotpAlgorithm; digits?: 6 | 7 | 8; period?: number };

export const TOTP_DEFAULTS = { algorithm: 'sha1', digits: 6, period: 30 } as const;


/** "alice@example.com" → "a***@example.com"; anything else → first character + "***". */
export const maskAccountName = (name: string): string => {
  const at = name.lastIndexOf('@');
  return at > 0 ? `${name[0]}***${name.slice(at)}` : `${name.slice(0, 1)}***`;
};

export type TotpService = ReturnType<typeof createTotpService>;

export const createTotpService = (deps: { events: EventLog; users: UserKeys; keyring: Keyring; now: () => number }) => {
  const { events, users, keyring, now } = deps;
  /** The user's stream, and the metadata of its events (the user's id is sealed, its key is not). */
  const userOf = async (caller: CallerInfo, userId: string) => {
    const userKey = await users.of(caller.tenantId, requireUserId(userId));
    return { stream: totpStreamName(caller.tenantId, userKey), metadata: { ...callerMetadata(caller), userId, userKey } };
  };
  const run = async (caller: CallerInfo, userId: string, command: TotpCommand) => {
    const u = await userOf(caller, userId);
    return events.handle(u.stream, totpDecider, command, { metadata: u.metadata });
  };

  return {
    /** Starts (or restarts) an enrollment. The secret is returned once and stored only encrypted. */
    setup: async (
      caller: CallerInfo,
      input: { userId: string; accountName: string; issuer?: string; defaultIssuer?: string; replace?: boolean; settings?: TotpSettings },
    ) => {
      requireUserId(input.userId);
      const issuer = (textField('issuer', input.issuer, MAX_LENGTH.issuer) || input.defaultIssuer || 'SecureKey').trim();
      const accountName = textField('accountName', input.accountName, MAX_LENGTH.accountName, true).trim();
      if (!accountName) throw new DomainError('INVALID_ARGUMENT', 'accountName: required');
      const { algorithm, digits, period } = { ...TOTP_DEFAULTS, ...input.settings };
      const secret = generateSecret();
      // Everything that can fail happens before the enrollment is written: a QR code that cannot be
      // drawn must not leave an enrollment (with replace, the old authenticator would stop working).
      const uri = generateURI({ issuer, label: accountName, secret, algorithm, digits, period });
      const { default: QRCode } = await import('qrcode'); // loaded at the first enrollment only
      let qrCodeDataUrl: string;
      try {
        qrCodeDataUrl = await QRCode.toDataURL(uri);
      } catch {
        throw new DomainError('INVALID_ARGUMENT', 'accountName and issuer are too long to fit in a QR code; shorten them');
      }
      const res = await run(caller, input.userId, {
        type: 'StartTotpEnrollment',
        data: {
          secretEnc: keyring.encrypt('totp', secret),
          algorithm,
          digits,
          period,
          issuer,
          accountNameMasked: maskAccountName(accountName),
          replace: input.replace === true,
          now: now(),
        },
      });
      return { uri, qrCodeDataUrl, secret, position: res.position };
    },

    /** A wrong token is verified:false with retryAfter (seconds before the next try); while the
     * delay runs, RATE_LIMITED. */
    verify: async (caller: CallerInfo, input: { userId: string; token: string }) => {
      const u = await userOf(caller, input.userId);
      const token = textField('token', input.token, MAX_LENGTH.token, true).trim();
      if (!token) throw new DomainError('INVALID_ARGUMENT', 'token: required');
      const at = now();
      const requester = requesterOf(keyring, caller);
      const { state } = await events.load(u.stream, totpDecider);
      let secretEnc = '';
      let matchedStep: number | null = null;
      if (state.status !== 'none' && !isLocked(state.throttle) && retryAfterSeconds(state.throttle, at, requester) === 0) {
        const e = state.enrollment;
        secretEnc = e.secretEnc;
        if (token.length === e.digits && /^[0-9]+$/.test(token)) {
          const result = verifySync({
            crypto: otpCrypto,
            secret: keyring.decrypt('totp', e.secretEnc),
            token,
            algorithm: e.algorithm,
            digits: e.digits as 6 | 7 | 8,
            period: e.period,
            epoch: Math.floor(at / 1000),
            epochTolerance: e.period, // ±1 step
            // No afterTimeStep: a step already used must still be found, so that the decider
            // refuses it as a replay (not a guess) instead of counting it as a wrong code.
          });
          if (result.valid && 'timeStep' in result) matchedStep = result.timeStep;
        }
      }
      // The decider refuses NOT_ENROLLED / TOO_MANY_ATTEMPTS / RATE_LIMITED and decides replay
      // against the latest state.
      const res = await events.handle(u.stream, totpDecider, { type: 'VerifyTotpCode', data: { secretEnc, matchedStep, now: at, requester } }, { metadata: u.metadata });
      const verified = res.events.some((e) => e.type === 'TotpEnrollmentConfirmed' || e.type === 'TotpCodeAccepted');
      return { verified, retryAfter: verified ? 0 : retryAfterSeconds(res.state.throttle, at, requester), position: res.position };
    },

    /** Lifts the user's throttle (delays, and the lock after too many failures). reset:false when
     * there was nothing to lift. */
    /** Checked now, run later (see src/app/limits.ts). */
    resetThrottle: (tenantId: string, userId: string, metadata: EventMetadata) => {
      requireUserId(userId);
      return async () => {
        const userKey = await users.of(tenantId, userId);
        const res = await events.handle(totpStreamName(tenantId, userKey), totpDecider, { type: 'ResetTotpThrottle', data: { now: now() } }, { metadata: { ...metadata, tenantId, userId, userKey } });
        return { reset: res.events.length > 0, position: res.position };
      };
    },

    remove: async (caller: CallerInfo, input: { userId: string }) => {
      const res = await run(caller, input.userId, { type: 'RemoveTotpEnrollment', data: { now: now() } });
      return { deleted: true, position: res.position };
    },
  };
};
