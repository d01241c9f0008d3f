// Per-call context shared by the Connect and REST paths.
import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import { DomainError } from '../domain/errors.ts';
import type { TenantRow } from '../../projections/tenants/index.ts';
import type { CallerInfo } from '../app/caller.ts';

/** Who is calling: set by the pipeline after authentication. */
export type Caller = CallerInfo & { tenant: TenantRow };

/** Who sent a request, as admission (admission.ts) found it before reading it. */
export type Identity = { kind: 'anonymous'; refusal: DomainError } | { kind: 'admin' } | { kind: 'tenant'; caller: Caller };

export type RequestInfo = {
  requestId: string;
  clientIp: string;
  /** Who sent it: set by admission (admission.ts) before the request is read. */
  identity?: Identity;
  /** Set when one of our handlers is reached (markReached). */
  reached?: boolean;
};

export const requestInfoKey = createContextKey<RequestInfo>({ requestId: '', clientIp: '' });

// Requests that reached one of our handlers (pipeline.ts): errors after that point are ours and
// pass through; errors before it were made by the protocol library (see connect.ts). A field of
// the request's own info, not a WeakSet entry: adding to a WeakSet cost ~2 % of a gRPC verify.
export const markReached = (info: RequestInfo) => void (info.reached = true);
export const wasReached = (info: RequestInfo) => info.reached === true;
export const callerKey = createContextKey<Caller | undefined>(undefined);
/** REST: JSON paths of request keys the message does not declare ("settings.otpLenght"). The
 * transcoder ignores unknown fields, as the contract says; a handler may refuse some by name. */
export const unknownFieldsKey = createContextKey<readonly string[]>([]);

export const getCaller = (ctx: HandlerContext): Caller => {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw new DomainError('UNAUTHORIZED', 'missing API key');
  return caller;
};
