// The HTTP handler of the whole API: health, metrics, REST, extra routes, and Connect.
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { createContextValues, type Interceptor, type MethodImpl } from '@connectrpc/connect';
import type { DescMethod } from '@bufbuild/protobuf';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';
import { requestInfoKey, type RequestInfo } from './context.ts';
import { toConnectError } from './errors.ts';
import type { Metrics } from './metrics.ts';
import { type Handler, type PipelineDeps, wrapHandler } from './pipeline.ts';
import { createRestHandler, REST_PREFIX, send, sendError, type AnyRequest, type AnyResponse } from './rest.ts';
import { buildRoutes } from './routes.ts';
import { buildOpenApi } from './openapi.ts';

/** Implementations by service type name, then by method local name (e.g. "sendSmsOtp"). */
export type Impls = Record<string, Record<string, Handler>>;

export type ExtraRoute = (req: AnyRequest, res: AnyResponse) => boolean;

export type AppDeps = {
  impls: Impls;
  pipeline: PipelineDeps;
  metrics: Metrics;
  bodyLimitBytes: number;
  trustProxy: boolean;
  version: string;
  /** Readiness: store reachable and projections caught up. */
  ready: () => Promise<{ ready: boolean; checks: Record<string, unknown> }>;
  extraRoutes?: ExtraRoute[];
};

const normaliseIp = (ip: string | undefined) => (ip ?? '').replace(/^::ffff:/, '') || 'unknown';

export const clientIpOf = (req: AnyRequest, trustProxy: boolean): string => {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
    if (first) return normaliseIp(first);
  }
  return normaliseIp(req.socket?.remoteAddress);
};

const requestIdOf = (req: AnyRequest): string => {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given)) return given;
  return 'req_' + randomBytes(9).toString('base64url');
};

/** DomainError → ConnectError with an ErrorDetail carrying our code. */
const domainErrors: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    if (err instanceof DomainError) throw toConnectError(err);
    throw err;
  }
};

export const createApp = (deps: AppDeps) => {
  const routes = buildRoutes();
  const wrapped = routes.map((route) => ({
    route,
    handler: wrapHandler(route, deps.impls[route.service.typeName]?.[route.method.localName], deps.pipeline),
  }));
  const requestInfo = (req: AnyRequest): RequestInfo => {
    const cached = (req as { securekeyInfo?: RequestInfo }).securekeyInfo;
    if (cached) return cached;
    const info = { requestId: requestIdOf(req), clientIp: clientIpOf(req, deps.trustProxy) };
    (req as { securekeyInfo?: RequestInfo }).securekeyInfo = info;
    return info;
  };
  const onRejected = (_info: RequestInfo, code: string) => deps.metrics.requests.inc({ method: 'rest', transport: 'rest', code });
  const openapiDoc = buildOpenApi(routes, { version: deps.version });
  const onInternal = (info: RequestInfo, err: unknown) => {
    deps.metrics.requests.inc({ method: 'rest', transport: 'rest', code: 'INTERNAL' });
    deps.pipeline.logger.error({ requestId: info.requestId, err }, 'internal error while rendering a response');
  };
  const rest = createRestHandler({ routes: wrapped, bodyLimitBytes: deps.bodyLimitBytes, openapi: () => openapiDoc, requestInfo, onRejected, onInternal });

  const connect = connectNodeAdapter({
    routes: (router) => {
      for (const { route, handler } of wrapped) router.rpc(route.method as DescMethod, handler as unknown as MethodImpl<DescMethod>);
    },
    interceptors: [domainErrors],
    contextValues: (req) => createContextValues().set(requestInfoKey, requestInfo(req as AnyRequest)),
    readMaxBytes: deps.bodyLimitBytes,
    fallback: (req, res) => sendError(res as AnyResponse, new DomainError('ROUTE_NOT_FOUND', `no route ${new URL(req.url ?? '/', 'http://x').pathname}`)),
  });

  return (req: AnyRequest, res: AnyResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
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
          res.end(text);
        },
        () => send(res, 500, { status: 'metrics unavailable' }),
      );
      return;
    }
    if (path === REST_PREFIX || path.startsWith(REST_PREFIX + '/')) {
      void rest(req, res);
      return;
    }
    for (const extra of deps.extraRoutes ?? []) if (extra(req, res)) return;
    connect(req as never, res as never);
  };
};
