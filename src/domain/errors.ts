// The one closed set of domain error codes. The api layer maps each code once to an HTTP
// status and a gRPC code (src/api/errors.ts); the domain never imports a transport.

export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'INVALID_PHONE',
  'INVALID_EMAIL',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'MFA_REQUIRED',
  'COUNTRY_NOT_ALLOWED',
  'NOT_FOUND',
  'OTP_NOT_FOUND',
  'NOT_ENROLLED',
  'TENANT_NOT_FOUND',
  'CREDENTIAL_NOT_FOUND',
  'DEVICE_NOT_FOUND',
  'PUSH_NOT_FOUND',
  'ALREADY_ENROLLED',
  'ALREADY_RESPONDED',
  'CONFLICT',
  'OTP_EXPIRED',
  'CHALLENGE_EXPIRED',
  'PUSH_EXPIRED',
  'VERIFICATION_FAILED',
  'TOO_MANY_ATTEMPTS',
  'RATE_LIMITED',
  'RESEND_TOO_SOON',
  'DESTINATION_LIMIT',
  'TENANT_QUOTA_EXCEEDED',
  'TOO_MANY_PENDING',
  'PAYLOAD_TOO_LARGE',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export type ErrorExtras = {
  requiredChannels?: string[];
  matchedPolicies?: string[];
  /** Seconds until the caller may try again (RATE_LIMITED, RESEND_TOO_SOON, ...). */
  retryAfterSeconds?: number;
};

/** A state the caller must act on. The message says what was expected and what came — never a secret. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly extras: ErrorExtras;
  constructor(code: ErrorCode, message: string, extras: ErrorExtras = {}) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.extras = extras;
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
