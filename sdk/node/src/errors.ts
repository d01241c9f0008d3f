// The one error the SDK throws. `code` is the server's SecureKey code (e.g. OTP_EXPIRED,
// MFA_REQUIRED, RATE_LIMITED) or, when no answer came, NETWORK_ERROR / TIMEOUT (status 0).

export type SecureKeyErrorInit = {
  code: string;
  /** HTTP status; 0 when no response was received. */
  status: number;
  requiredChannels?: string[];
  matchedPolicies?: string[];
  /** Seconds to wait before trying again (envelope `retryAfter` or the Retry-After header). */
  retryAfter?: number;
  /** The URL called. */
  url?: string;
  cause?: unknown;
};

export class SecureKeyError extends Error {
  readonly code: string;
  readonly status: number;
  /** MFA_REQUIRED: the channels still to verify. Empty otherwise. */
  readonly requiredChannels: string[];
  /** MFA_REQUIRED: the names of the tenant policies that asked for them. Empty otherwise. */
  readonly matchedPolicies: string[];
  readonly retryAfter: number | undefined;
  /** The URL called (also named in the message of errors without a SecureKey answer). */
  readonly url: string | undefined;

  constructor(message: string, init: SecureKeyErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'SecureKeyError';
    this.code = init.code;
    this.status = init.status;
    this.requiredChannels = init.requiredChannels ?? [];
    this.matchedPolicies = init.matchedPolicies ?? [];
    this.retryAfter = init.retryAfter;
    this.url = init.url;
  }
}
