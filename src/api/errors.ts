// The one mapping from domain error codes to HTTP status and gRPC code, and the conversion of
// anything thrown into a DomainError the caller may see (no stack traces, no internals).
import { Code, ConnectError } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { DomainError, type ErrorCode } from '../domain/errors.ts';
import { StoreUnavailableError } from '../eventstore/port.ts';
import { ErrorDetailSchema } from '../gen/securekey/v1/options_pb.js';

export const ERROR_MAP: Record<ErrorCode, { http: number; grpc: Code }> = {
  INVALID_ARGUMENT: { http: 400, grpc: Code.InvalidArgument },
  INVALID_PHONE: { http: 400, grpc: Code.InvalidArgument },
  INVALID_EMAIL: { http: 400, grpc: Code.InvalidArgument },
  UNAUTHORIZED: { http: 401, grpc: Code.Unauthenticated },
  FORBIDDEN: { http: 403, grpc: Code.PermissionDenied },
  MFA_REQUIRED: { http: 403, grpc: Code.PermissionDenied },
  COUNTRY_NOT_ALLOWED: { http: 403, grpc: Code.PermissionDenied },
  NOT_FOUND: { http: 404, grpc: Code.NotFound },
  OTP_NOT_FOUND: { http: 404, grpc: Code.NotFound },
  NOT_ENROLLED: { http: 404, grpc: Code.NotFound },
  TENANT_NOT_FOUND: { http: 404, grpc: Code.NotFound },
  CREDENTIAL_NOT_FOUND: { http: 404, grpc: Code.NotFound },
  DEVICE_NOT_FOUND: { http: 404, grpc: Code.NotFound },
  PUSH_NOT_FOUND: { http: 404, grpc: Code.NotFound },
  ROUTE_NOT_FOUND: { http: 404, grpc: Code.Unimplemented },
  METHOD_NOT_ALLOWED: { http: 405, grpc: Code.Unimplemented },
  ALREADY_ENROLLED: { http: 409, grpc: Code.AlreadyExists },
  ALREADY_RESPONDED: { http: 409, grpc: Code.FailedPrecondition },
  CONFLICT: { http: 409, grpc: Code.Aborted },
  OTP_EXPIRED: { http: 410, grpc: Code.FailedPrecondition },
  CHALLENGE_EXPIRED: { http: 410, grpc: Code.FailedPrecondition },
  PUSH_EXPIRED: { http: 410, grpc: Code.FailedPrecondition },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: Code.ResourceExhausted },
  VERIFICATION_FAILED: { http: 400, grpc: Code.InvalidArgument },
  TOO_MANY_ATTEMPTS: { http: 429, grpc: Code.ResourceExhausted },
  RATE_LIMITED: { http: 429, grpc: Code.ResourceExhausted },
  RESEND_TOO_SOON: { http: 429, grpc: Code.ResourceExhausted },
  DESTINATION_LIMIT: { http: 429, grpc: Code.ResourceExhausted },
  TENANT_QUOTA_EXCEEDED: { http: 429, grpc: Code.ResourceExhausted },
  TOO_MANY_PENDING: { http: 429, grpc: Code.ResourceExhausted },
  UNIMPLEMENTED: { http: 501, grpc: Code.Unimplemented },
  INTERNAL: { http: 500, grpc: Code.Internal },
  UNAVAILABLE: { http: 503, grpc: Code.Unavailable },
};

/** Anything thrown, as the DomainError the caller sees. `internal` is true when it must be logged as a bug. */
export const toDomainError = (err: unknown): { error: DomainError; internal: boolean } => {
  if (err instanceof DomainError) return { error: err, internal: false };
  if (err instanceof StoreUnavailableError) return { error: new DomainError('UNAVAILABLE', 'the event store is unavailable; retry shortly', { retryAfterSeconds: 1 }), internal: false };
  if (err instanceof ConnectError && err.code === Code.Unimplemented) return { error: new DomainError('UNIMPLEMENTED', 'this method is not implemented yet'), internal: false };
  return { error: new DomainError('INTERNAL', 'internal error'), internal: true };
};

/** The ConnectError for a DomainError, with its ErrorDetail; `headers` (rate limits) go with it. */
export const toConnectError = (e: DomainError, headers?: Headers): ConnectError =>
  new ConnectError(e.message, ERROR_MAP[e.code].grpc, headers, [
    {
      desc: ErrorDetailSchema,
      value: create(ErrorDetailSchema, {
        code: e.code,
        requiredChannels: e.extras.requiredChannels ?? [],
        matchedPolicies: e.extras.matchedPolicies ?? [],
        retryAfterSeconds: e.extras.retryAfterSeconds ?? 0,
      }),
    },
  ]);

/** The REST envelope for a failure. MFA fields sit at the top level, as the seed shows. */
export const errorEnvelope = (e: DomainError) => ({
  success: false as const,
  error: e.message,
  code: e.code,
  ...(e.extras.requiredChannels ? { requiredChannels: e.extras.requiredChannels } : {}),
  ...(e.extras.matchedPolicies ? { matchedPolicies: e.extras.matchedPolicies } : {}),
  ...(e.extras.retryAfterSeconds ? { retryAfter: e.extras.retryAfterSeconds } : {}),
});
