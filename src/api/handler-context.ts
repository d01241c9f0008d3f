// The handler context of a call our own transports serve (REST, and gRPC's unary fast path), each
// part made when first read: a verification reads only `values`, while Connect's
// createHandlerContext builds four Headers and two AbortControllers for every call.
import { Code, ConnectError, type ContextValues, type HandlerContext } from '@connectrpc/connect';
import type { Route } from './routes.ts';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';

type AnyRequest = IncomingMessage | Http2ServerRequest;

const requestHeadersOf = (req: AnyRequest): Headers => {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith(':') || v === undefined) continue;
    if (typeof v === 'string') h.append(k, v);
    else for (const e of v) h.append(k, e);
  }
  return h;
};

export type LazyContext = {
  ctx: HandlerContext;
  /** The response headers and trailers the handler set (undefined: it set none). */
  headers: () => Headers | undefined;
  trailers: () => Headers | undefined;
  /** The call is answered: its signal (if anyone asked for it) aborts, as Connect's does. */
  done: () => void;
};

export const lazyHandlerContext = (o: { req: AnyRequest; route: Route; protocolName: string; values: ContextValues; deadline?: number }): LazyContext => {
  const { req, deadline } = o;
  let requestHeader: Headers | undefined;
  let responseHeader: Headers | undefined;
  let responseTrailer: Headers | undefined;
  let aborter: AbortController | undefined;
  const ctx: HandlerContext = {
    service: o.route.service,
    method: o.route.method,
    protocolName: o.protocolName,
    requestMethod: req.method ?? 'POST',
    url: req.url ?? '',
    values: o.values,
    timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
    get requestHeader() {
      return (requestHeader ??= requestHeadersOf(req));
    },
    get responseHeader() {
      return (responseHeader ??= new Headers());
    },
    get responseTrailer() {
      return (responseTrailer ??= new Headers());
    },
    // As Connect's: aborted at the deadline, when the client goes away, and when the call is done.
    get signal() {
      if (!aborter) {
        const a = (aborter = new AbortController());
        req.once('close', () => a.abort());
        if (deadline !== undefined) {
          const timer = setTimeout(() => a.abort(new ConnectError('the operation timed out', Code.DeadlineExceeded)), Math.max(0, deadline - Date.now()));
          a.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
        }
      }
      return aborter.signal;
    },
  };
  return { ctx, headers: () => responseHeader, trailers: () => responseTrailer, done: () => aborter?.abort() };
};
