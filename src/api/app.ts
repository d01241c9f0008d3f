// The HTTP handler of the whole API: health, metrics, REST, extra routes, and Connect.
import { createContextValues, type HandlerContext } from '@connectrpc/connect';
import { randomChunk } from '../crypto/random.ts';
import { DomainError } from '../domain/errors.ts';
import { limitHeaders } from './admission.ts';
import type { TrustProxy } from '../config.ts';
import { clientAddressOf } from './client-address.ts';
import { createConnectAdapter, isGrpcRequest, sendConnectError } from './connect.ts';
import { requestInfoKey, wasReached, type RequestInfo } from './context.ts';
import type { Metrics } from './metrics.ts';
import { createGrpcUnary, type UnaryHandler } from './grpc-unary.ts';
import { type Call, type CallOutcome, type PipelineDeps, pipelineInterceptor, runCall, runConnectCall } from './pipeline.ts';
import type { ServiceEntry } from './registry.ts';
import { createRestHandler, REST_PREFIX, send, sendError, type AnyRequest, type AnyResponse, type RestHandler } from './rest.ts';
import { buildRoutes, routeFinder, type Route } from './routes.ts';
import { buildOpenApi } from './openapi.ts';
import { peerAddressOf } from './server.ts';

export type ExtraRoute = (req: AnyRequest, res: AnyResponse) => boolean;

export type AppDeps = {
  /** The typed implementation of every service (serviceOf). */
  services: readonly ServiceEntry[];
  pipeline: Omit<PipelineDeps, 'onCall'>;
  metrics: Metrics;
  bodyLimitBytes: number;
  /** Where the client address comes from (the socket, or trusted proxies' header). */
  trustProxy: TrustProxy;
  version: string;
  /** Readiness: store reachable and projections caught up. */
  ready: () => Promise<{ ready: boolean; checks: Record<string, unknown> }>;
  extraRoutes?: ExtraRoute[];
};

const requestIdOf = (req: AnyRequest): string => {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given)) return given;
  return 'req_' + randomChunk(9).toString('base64url');
};

/** Probes and scrapes are logged at debug level: every request is logged once, without drowning the rest. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const MAX_LOGGED_PATH = 120;

/** A path as logged: a user id in it (/api/v1/users/{userId}/...) is personal data, left out. */
export const loggablePath = (path: string) => path.replace(/^(\/api\/v1\/users\/)[^/]+/, '$1{userId}').slice(0, MAX_LOGGED_PATH);

export const createApp = (deps: AppDeps) => {
  const routes = buildRoutes();
  const { logger } = deps.pipeline;
  // The outcome of each request that reached the pipeline or was refused before it, for its log line.
  const outcomes = new WeakMap<RequestInfo, Partial<CallOutcome>>();
  const pipeline: PipelineDeps = { ...deps.pipeline, onCall: (info, outcome) => outcomes.set(info, outcome) };
  const byService = new Map(deps.services.map((s) => [s.service.typeName, s]));
  // REST and gRPC's unary fast path call the very implementation Connect serves, through the same pipeline.
  const implOf = (route: Route): RestHandler => {
    const spec = byService.get(route.service.typeName)?.methods[route.method.localName];
    return async (input, ctx) => {
      if (spec?.kind !== 'unary') throw new DomainError('UNIMPLEMENTED', `${route.service.name}.${route.method.name} is not implemented yet`);
      return spec.impl(input, ctx);
    };
  };
  // The headers are read through, not copied: the gRPC fast path makes them only when asked.
  const callOf = (route: Route, ctx: HandlerContext, transport: 'rest' | 'grpc'): Call => ({
    route,
    transport,
    get requestHeader() {
      return ctx.requestHeader;
    },
    get responseHeader() {
      return ctx.responseHeader;
    },
    values: ctx.values,
  });
  const wrapped = routes.map((route) => {
    const impl = implOf(route);
    const handler: RestHandler = (input, ctx) => runCall(callOf(route, ctx, 'rest'), pipeline, () => impl(input, ctx));
    return { route, handler };
  });
  const grpcMethods = new Map(
    routes.map((route) => {
      const impl = implOf(route);
      const handler: UnaryHandler = (input, ctx) => runConnectCall(callOf(route, ctx, 'grpc'), pipeline, () => impl(input, ctx));
      return [`/${route.service.typeName}/${route.method.name}`, { route, handler }];
    }),
  );
  const requestInfo = (req: AnyRequest): RequestInfo => {
    const cached = (req as { securekeyInfo?: RequestInfo }).securekeyInfo;
    if (cached) return cached;
    const info: RequestInfo = { requestId: requestIdOf(req), clientIp: clientAddressOf(peerAddressOf(req), req.headers, deps.trustProxy) };
    (req as { securekeyInfo?: RequestInfo }).securekeyInfo = info;
    return info;
  };
  const findRoute = routeFinder(routes);
  /** Identifies and counts an API request before it is read (admission.ts); answers a refusal itself (false). */
  const admitted = (req: AnyRequest, res: AnyResponse, info: RequestInfo, path: string, transport: 'rest' | 'connect'): boolean => {
    const a = deps.pipeline.admit(req.headers, findRoute(req.method, path), info);
    for (const [k, v] of Object.entries(limitHeaders(a.decision))) res.setHeader(k, v);
    if (a.ok) {
      info.identity = a.identity;
      return true;
    }
    outcomes.set(info, { transport, code: a.error.code });
    deps.metrics.calls.count(transport, transport, a.error.code);
    if (transport === 'rest' || (!isGrpcRequest(req) && !/^\/[\w.]+\/\w+$/.test(path))) sendError(res, a.error);
    else sendConnectError(req, res, a.error);
    return false;
  };
  const onRejected = (info: RequestInfo, code: string) => {
    outcomes.set(info, { transport: 'rest', code });
    deps.metrics.calls.count('rest', 'rest', code);
  };
  /** One line per answered request, whatever answered it: the call's outcome when there was one. */
  const logAnswered = (req: AnyRequest, res: AnyResponse, info: RequestInfo, path: string, started: number) => {
    const outcome = outcomes.get(info);
    const line = {
      requestId: info.requestId,
      http: `${req.method} ${loggablePath(path)}`,
      status: res.statusCode,
      ...outcome,
      ms: Math.round(performance.now() - started),
      ...(res.writableEnded ? {} : { aborted: true }),
    };
    if (QUIET_PATHS.has(path)) logger.debug(line, 'request');
    else logger.info(line, 'request');
  };
  const openapiDoc = buildOpenApi(routes, { version: deps.version });
  const onInternal = (info: RequestInfo, err: unknown, transport: 'rest' | 'grpc' = 'rest') => {
    deps.metrics.calls.count(transport, transport, 'INTERNAL');
    deps.pipeline.logger.error({ requestId: info.requestId, err }, 'internal error while rendering a response');
  };
  const rest = createRestHandler({ routes: wrapped, bodyLimitBytes: deps.bodyLimitBytes, openapi: () => openapiDoc, requestInfo, onRejected, onInternal });

  const contextValuesOf = (req: AnyRequest) => createContextValues().set(requestInfoKey, requestInfo(req));
  const grpcUnary = createGrpcUnary({
    methods: grpcMethods,
    readMaxBytes: deps.bodyLimitBytes,
    contextValues: contextValuesOf,
    onInternal: (req, err) => onInternal(requestInfo(req), err, 'grpc'),
  });
  const connect = createConnectAdapter({
    grpcUnary,
    routes: (router) => {
      const interceptors = [pipelineInterceptor(routes, pipeline)];
      for (const s of deps.services) s.register(router, { interceptors });
    },
    // Default values too (verified: false, attemptsRemaining: 0), as the REST envelope shows them.
    jsonOptions: { alwaysEmitImplicit: true },
    contextValues: contextValuesOf,
    readMaxBytes: deps.bodyLimitBytes,
    reached: (req) => wasReached(requestInfo(req)),
    onRejected: (req, code) => {
      outcomes.set(requestInfo(req), { transport: 'connect', code });
      deps.metrics.calls.count('connect', 'connect', code);
    },
    fallback: (req, res) => {
      outcomes.set(requestInfo(req), { code: 'ROUTE_NOT_FOUND' });
      const e = new DomainError('ROUTE_NOT_FOUND', `no route ${new URL(req.url ?? '/', 'http://x').pathname}`);
      if (isGrpcRequest(req)) sendConnectError(req, res, e);
      else sendError(res, e);
    },
  });

  return (req: AnyRequest, res: AnyResponse) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const info = requestInfo(req);
    res.setHeader('x-request-id', info.requestId);
    res.once('close', () => logAnswered(req, res, info, path, started));
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      deps.ready().then(
        (r) => send(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', ...r.checks }),
        () => send(res, 503, { status: 'not ready' }),
      );
      return;
    }
    if (path === '/metrics') {
      deps.metrics.registry.metrics().then(
        (text) => {
          (res as import('node:http').ServerResponse).writeHead(200, { 'content-type': deps.metrics.registry.contentType });
          res.end(`${deps.metrics.calls.text()}\n${text}`);
        },
        () => send(res, 500, { status: 'metrics unavailable' }),
      );
      return;
    }
    if (path === REST_PREFIX || path.startsWith(REST_PREFIX + '/')) {
      if (admitted(req, res, info, path, 'rest')) void rest(req, res);
      return;
    }
    for (const extra of deps.extraRoutes ?? []) if (extra(req, res)) return;
    if (admitted(req, res, info, path, 'connect')) connect(req, res);
  };
};
