// The length limits of the inputs the application services take, checked before any event is
// written (the transport's body limit bounds the whole request; these bound each field).
import { DomainError } from '../domain/errors.ts';

export const MAX_LENGTH = {
  /** The tenant's id for its user (stream names use its keyed hash). */
  userId: 256,
  /** TOTP label and passkey user name: an email address fits (254). */
  accountName: 256,
  /** TOTP issuer: as the tenant setting totpIssuer. */
  issuer: 100,
  displayName: 256,
  deviceName: 100,
  /** A BCP 47 language tag ("ko-KR"). */
  locale: 35,
  purpose: 64,
  /** A TOTP code is 6 to 8 digits; anything much longer is not a guess but junk. */
  token: 32,
} as const;

/** A string field within its limit ("" when absent and not required). Refuses other types. */
export const textField = (field: string, v: unknown, max: number, required = false): string => {
  if (v === undefined || v === null || v === '') {
    if (required) throw new DomainError('INVALID_ARGUMENT', `${field}: required`);
    return '';
  }
  if (typeof v !== 'string' || v.length > max) throw new DomainError('INVALID_ARGUMENT', `${field}: expected a string of at most ${max} characters`);
  return v;
};
