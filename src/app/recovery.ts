// Recovery codes application service: draws the codes from the CSPRNG, shows them once and hands
// the decider only their keyed hashes; the decider keeps the rules (single use, one set at a time,
// TOTP's delays after failures).
import { randomInt } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.ts';
import { type CallerInfo, callerMetadata } from './caller.ts';
import type { NewId } from './ids.ts';
import { requireUserId } from './user-id.ts';
import { DomainError } from '../domain/errors.ts';
import { formatRecoveryCode, MAX_RECOVERY_INPUT, normaliseRecoveryCode, RECOVERY_ALPHABET, RECOVERY_CODE_SYMBOLS } from '../domain/recovery/code.ts';
import { recoveryDecider, recoveryStreamName, retryAfterSeconds } from '../domain/recovery/decider.ts';
import type { RecoveryCommand } from '../domain/recovery/types.ts';
import { TENANT_SETTINGS } from '../domain/tenant/settings.ts';
import type { EventLog } from './event-log.ts';
import type { UserKeys } from './user-keys.ts';

/** One code's 12 symbols, each uniform over the alphabet (randomInt has no modulo bias). */
export const drawRecoveryCode = (): string => {
  let s = '';
  for (let i = 0; i < RECOVERY_CODE_SYMBOLS; i++) s += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
  return s;
};

/** A code's keyed hash, bound to its stream (the same code for two users hashes differently). */
export const hashRecoveryCode = (keyring: Keyring, stream: string, symbols: string): string => keyring.hmac('recovery-code', `${stream}:${symbols}`);

const { min: MIN_COUNT, max: MAX_COUNT } = TENANT_SETTINGS.recoveryCodeCount;
/** As an MFA policy's purpose. */
const MAX_PURPOSE = 64;

export type RecoveryService = ReturnType<typeof createRecoveryService>;

export const createRecoveryService = (deps: { events: EventLog; users: UserKeys; keyring: Keyring; now: () => number; newId: NewId; drawCode?: () => string }) => {
  const { events, users, keyring, now } = deps;
  const draw = deps.drawCode ?? drawRecoveryCode;
  /** The user's stream (named by their stream key: an erasure starts them from scratch). */
  const streamOf = async (tenantId: string, userId: string) => recoveryStreamName(tenantId, await users.of(tenantId, requireUserId(userId)));
  // Every racer appends (a use, or the refusal of a used code), so a crowd racing on one user's
  // codes retries more than other aggregates: as many retries as OTP verification gets.
  const run = async (caller: CallerInfo, userId: string, command: RecoveryCommand) => {
    const userKey = await users.of(caller.tenantId, requireUserId(userId));
    return events.handle(recoveryStreamName(caller.tenantId, userKey), recoveryDecider, command, { metadata: { ...callerMetadata(caller), userId, userKey }, maxRetries: 64 });
  };

  return {
    /** A new set of `count` codes, returned once (grouped, "k7mq-2xw9-hc4t") and stored only as
     * keyed hashes. An existing set with unused codes is replaced only when `replace` is true. */
    generate: async (caller: CallerInfo, input: { userId: string; count: number; replace?: boolean }) => {
      const stream = await streamOf(caller.tenantId, input.userId);
      if (!Number.isInteger(input.count) || input.count < MIN_COUNT || input.count > MAX_COUNT)
        throw new DomainError('INVALID_ARGUMENT', `count: expected an integer from ${MIN_COUNT} to ${MAX_COUNT}, got ${input.count}`);
      const codes = new Set<string>();
      while (codes.size < input.count) codes.add(draw());
      const res = await run(caller, input.userId, {
        type: 'GenerateRecoveryCodes',
        data: { setId: deps.newId(), codeHashes: [...codes].map((c) => hashRecoveryCode(keyring, stream, c)), replace: input.replace === true, now: now() },
      });
      return { codes: [...codes].map(formatRecoveryCode), position: res.position };
    },

    /** A wrong or used code is verified:false (with retryAfter, seconds before the next try after
     * repeated failures); while that delay runs, RATE_LIMITED. */
    verify: async (caller: CallerInfo, input: { userId: string; code: string; purpose?: string }) => {
      const stream = await streamOf(caller.tenantId, input.userId);
      const purpose = input.purpose || undefined;
      if (purpose !== undefined && purpose.length > MAX_PURPOSE) throw new DomainError('INVALID_ARGUMENT', `purpose: expected at most ${MAX_PURPOSE} characters, got ${purpose.length}`);
      const raw = typeof input.code === 'string' ? input.code : '';
      if (raw.length > MAX_RECOVERY_INPUT) throw new DomainError('INVALID_ARGUMENT', `code: expected at most ${MAX_RECOVERY_INPUT} characters, got ${raw.length}`);
      if (!raw.trim()) throw new DomainError('INVALID_ARGUMENT', 'code: required');
      const symbols = normaliseRecoveryCode(raw);
      if (!symbols) throw new DomainError('INVALID_ARGUMENT', `code: expected a recovery code of ${RECOVERY_CODE_SYMBOLS} letters and digits like "k7mq-2xw9-hc4t"`);
      const at = now();
      const res = await run(caller, input.userId, { type: 'VerifyRecoveryCode', data: { candidateHash: hashRecoveryCode(keyring, stream, symbols), now: at } });
      const verified = res.events.some((e) => e.type === 'RecoveryCodeUsed');
      const remaining = res.state.status === 'active' ? res.state.remaining : 0;
      return { verified, remaining, retryAfter: verified ? 0 : retryAfterSeconds(res.state.throttle, at), userId: input.userId, purpose, position: res.position };
    },

    /** How many codes of the user's set are left (nothing is written). */
    status: async (caller: CallerInfo, input: { userId: string }) => {
      const { state } = await events.load(await streamOf(caller.tenantId, input.userId), recoveryDecider);
      if (state.status === 'none') return { enrolled: false, remaining: 0, total: 0, generatedAt: 0 };
      return { enrolled: true, remaining: state.remaining, total: state.set.codeHashes.length, generatedAt: state.set.generatedAt };
    },

    /** Every code of the user's set stops working. */
    remove: async (caller: CallerInfo, input: { userId: string }) => {
      const res = await run(caller, input.userId, { type: 'RemoveRecoveryCodes', data: { now: now() } });
      return { deleted: true, position: res.position };
    },
  };
};
