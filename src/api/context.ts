// Per-call context shared by the Connect and REST paths.
import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import { DomainError } from '../domain/errors.ts';
import type { TenantRow } from '../../projections/tenants/index.ts';
import type { CallerInfo } from '../app/caller.ts';

/** Who is calling: set by the pipeline after authentication. */
export type Caller = CallerInfo & { tenant: TenantRow };

export type RequestInfo = { requestId: string; clientIp: string };

export const requestInfoKey = createContextKey<RequestInfo>({ requestId: '', clientIp: '' });
export const callerKey = createContextKey<Caller | undefined>(undefined);

export const getCaller = (ctx: HandlerContext): Caller => {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw new DomainError('UNAUTHORIZED', 'missing API key');
  return caller;
};
