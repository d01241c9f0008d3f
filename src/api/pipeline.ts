// What every call goes through, whatever its transport: the caller (admission.ts),
// the call itself, metrics, and its outcome for the request's one log line (written by the app).
// Errors leave as DomainError; each transport renders them (Connect: ConnectError with an
// ErrorDetail; REST: the envelope).
import { type ContextValues, type Interceptor } from '@connectrpc/connect';
import type { DescMethod } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { DomainError } from '../domain/errors.ts';
import { type Admit, limitHeaders } from './admission.ts';
import { callerKey, type Identity, markReached, requestInfoKey, type RequestInfo } from './context.ts';
import { toConnectError, toDomainError } from './errors.ts';
import type { Metrics } from './metrics.ts';
import type { Route } from './routes.ts';

/** How a call ended: the app logs it on the request's one line. */
export type CallOutcome = { method: string; transport: string; code: string; tenantId?: string };

export type PipelineDeps = {
  /** Identifies and counts a call (admission.ts); over HTTP the app has done it already. */
  admit: Admit;
  metrics: Metrics;
  logger: Logger;
  onCall: (info: RequestInfo, outcome: CallOutcome) => void;
};

/** One call as the pipeline sees it, whichever transport carried it. */
export type Call = {
  route: Route;
  /** "rest", "connect", "grpc" or "grpc_web". */
  transport: string;
  requestHeader: Headers;
  /** Rate-limit headers go here. */
  responseHeader: Headers;
  /** The caller is set here for the handler. */
  values: ContextValues;
};

/** Who is calling: as admission identified the HTTP request, or (a call made in process, without
 * the HTTP edge) identified and counted now, the limit headers set on the call's answer. */
const identityOf = (call: Call, info: RequestInfo, admit: Admit): Identity => {
  if (info.identity) return info.identity;
  const a = admit(Object.fromEntries(call.requestHeader), call.route, info);
  for (const [k, v] of Object.entries(limitHeaders(a.decision))) call.responseHeader.set(k, v);
  if (!a.ok) throw a.error;
  return a.identity;
};

/** Runs `next` (the typed handler) as one call: limits, authentication, then the metrics and the
 * outcome (onCall). Anything thrown leaves as the DomainError the caller may see. */
export const runCall = async <T>(call: Call, deps: PipelineDeps, next: () => Promise<T>): Promise<T> => {
  const { route } = call;
  const { name } = route;
  const started = performance.now();
  const info = call.values.get(requestInfoKey);
  markReached(info);
  let code = 'OK';
  let tenantId: string | undefined;
  try {
    const who = identityOf(call, info, deps.admit);
    if (who.kind === 'anonymous') throw who.refusal;
    if (route.option.admin !== (who.kind === 'admin')) throw new DomainError('UNAUTHORIZED', 'missing or wrong credentials');
    if (who.kind === 'tenant') {
      tenantId = who.caller.tenantId;
      call.values.set(callerKey, who.caller);
    }
    return await next();
  } catch (err) {
    const { error, internal } = toDomainError(err);
    code = error.code;
    if (internal) deps.logger.error({ requestId: info.requestId, method: name, err }, 'internal error');
    throw error;
  } finally {
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.calls.count(name, call.transport, code);
    deps.metrics.calls.observe(name, call.transport, seconds);
    deps.onCall(info, { method: name, transport: call.transport, code, tenantId });
  }
};

/** runCall for the Connect-shaped transports: a failure leaves as a ConnectError with our
 * ErrorDetail, carrying the headers the call set (rate limits). */
export const runConnectCall = async <T>(call: Call, deps: PipelineDeps, next: () => Promise<T>): Promise<T> => {
  try {
    return await runCall(call, deps, next);
  } catch (err) {
    throw toConnectError(toDomainError(err).error, call.responseHeader);
  }
};

const transportOf = (contentType: string | null) => (contentType?.startsWith('application/grpc-web') ? 'grpc_web' : contentType?.startsWith('application/grpc') ? 'grpc' : 'connect');

/** The pipeline for gRPC, gRPC-Web and Connect: every call of the registered services runs
 * through runCall; failures leave as a ConnectError with our ErrorDetail and the limit headers. */
export const pipelineInterceptor = (routes: readonly Route[], deps: PipelineDeps): Interceptor => {
  const byMethod = new Map<DescMethod, Route>(routes.map((r) => [r.method, r]));
  return (next) => async (req) => {
    const route = byMethod.get(req.method);
    if (!route) throw toConnectError(new DomainError('UNIMPLEMENTED', `${req.method.parent.typeName}.${req.method.name} has no route`));
    const responseHeader = new Headers();
    const res = await runConnectCall({ route, transport: transportOf(req.header.get('content-type')), requestHeader: req.header, responseHeader, values: req.contextValues }, deps, () => next(req));
    responseHeader.forEach((v, k) => res.header.set(k, v));
    return res;
  };
};
