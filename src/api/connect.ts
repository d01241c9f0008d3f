// Connect, gRPC and gRPC-Web on Node: connect-es's router behind our own small adapter, so that a
// request the library refuses before our handler runs (undecodable protobuf or JSON, a compressed
// flag without an encoding, bad framing, an unknown compression) is answered as the client's error
// — INVALID_ARGUMENT, or RESOURCE_EXHAUSTED when too large — with a generic message, never
// INTERNAL, a 5xx or the parser's text. Errors our handlers raise pass through untouched.
// Also renders a DomainError in a request's protocol when we refuse it before Connect sees it.
import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ContextValues, type Interceptor } from '@connectrpc/connect';
import { codeFromString, codeToHttpStatus, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import { setTrailerStatus } from '@connectrpc/connect/protocol-grpc';
import { trailerParse, trailerSerialize } from '@connectrpc/connect/protocol-grpc-web';
import type { UniversalServerResponse } from '@connectrpc/connect/protocol';
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';
import type { JsonReadOptions, JsonWriteOptions } from '@bufbuild/protobuf';
import { DomainError } from '../domain/errors.ts';
import { toConnectError } from './errors.ts';
import type { ViaConnect } from './grpc-unary.ts';
import type { AnyRequest, AnyResponse } from './rest.ts';

const TRAILER_FLAG = 0x80;
/** The longest client deadline a timer can hold (~24.8 days); a longer one would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const GRPC_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** A client deadline header the library would accept but not honour (too long): say so instead. */
const badDeadline = (req: AnyRequest): boolean => {
  const grpc = req.headers['grpc-timeout'];
  if (typeof grpc === 'string') {
    const m = /^(\d{1,8})([HMSmun])$/.exec(grpc);
    return m !== null && Number(m[1]) * GRPC_UNITS[m[2]!]! > MAX_TIMEOUT_MS;
  }
  const connect = req.headers['connect-timeout-ms'];
  return typeof connect === 'string' && /^\d{1,10}$/.test(connect) && Number(connect) > MAX_TIMEOUT_MS;
};

type Protocol = 'grpc' | 'grpc-web' | 'connect';

const protocolOf = (contentType: string | undefined): Protocol => {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.startsWith('application/grpc-web')) return 'grpc-web';
  if (ct.startsWith('application/grpc')) return 'grpc';
  return 'connect';
};

/** True for a request a gRPC or gRPC-Web client sent (they expect errors in trailers, not JSON). */
export const isGrpcRequest = (req: AnyRequest) => protocolOf(req.headers['content-type']) !== 'connect';

/** What a client is told when its request never reached a handler. */
const refusal = (code: Code, readMaxBytes: number): ConnectError => {
  if (code === Code.ResourceExhausted) return toConnectError(new DomainError('PAYLOAD_TOO_LARGE', `the request message exceeds ${readMaxBytes} bytes`));
  if (code === Code.DeadlineExceeded || code === Code.Canceled) return new ConnectError('the request was not completed', code);
  return toConnectError(new DomainError('INVALID_ARGUMENT', 'the request could not be decoded: malformed message, framing, encoding or compression'));
};

/** The label a refusal is counted under (our error codes where there is one). */
const labelOf = (err: ConnectError) => (err.code === Code.ResourceExhausted ? 'PAYLOAD_TOO_LARGE' : err.code === Code.InvalidArgument ? 'INVALID_ARGUMENT' : Code[err.code]);

const envelope = (flags: number, data: Uint8Array) => {
  const out = new Uint8Array(5 + data.byteLength);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.byteLength);
  out.set(data, 5);
  return out;
};

const collect = async (body: AsyncIterable<Uint8Array> | undefined) => {
  const chunks: Uint8Array[] = [];
  for await (const c of body ?? []) chunks.push(c);
  return Buffer.concat(chunks);
};

/** The response, with a library-made error replaced by `refusal` when no handler was reached. */
const sanitise = async (protocol: Protocol, res: UniversalServerResponse, reached: () => boolean, readMaxBytes: number, onRefused: (label: string) => void): Promise<UniversalServerResponse> => {
  if (protocol === 'connect') {
    if (res.status === 200 || reached()) return res;
    const body = await collect(res.body);
    let code: Code | undefined;
    try {
      code = codeFromString(String((JSON.parse(body.toString('utf8')) as { code?: unknown }).code));
    } catch {
      code = undefined; // 405, 415 and the like: no error body, nothing to hide
    }
    if (code === undefined) return { ...res, body: (async function* () { yield body; })() };
    const err = refusal(code, readMaxBytes);
    onRefused(labelOf(err));
    const bytes = errorToJsonBytes(err, {});
    const header = new Headers(res.header);
    header.set('content-type', 'application/json');
    header.set('content-length', String(bytes.byteLength));
    header.delete('content-encoding');
    return { status: codeToHttpStatus(err.code), header, body: (async function* () { yield bytes; })() };
  }
  const grpcStatus = (h: Headers | undefined) => Number(h?.get('grpc-status') ?? '0');
  const replace = (h: Headers) => {
    const err = refusal(grpcStatus(h) as Code, readMaxBytes);
    onRefused(labelOf(err));
    for (const k of ['grpc-status', 'grpc-message', 'grpc-status-details-bin']) h.delete(k);
    setTrailerStatus(h, err);
  };
  const inner = res.body;
  const trailer = res.trailer;
  return {
    ...res,
    body: (async function* () {
      for await (const chunk of inner ?? []) {
        // gRPC-Web carries its trailers as the last (uncompressed) frame of the body.
        if (protocol === 'grpc-web' && chunk[0] === TRAILER_FLAG && !reached()) {
          const t = trailerParse(chunk.subarray(5));
          if (grpcStatus(t) !== 0) {
            replace(t);
            yield envelope(TRAILER_FLAG, trailerSerialize(t));
            continue;
          }
        }
        yield chunk;
      }
      if (protocol === 'grpc' && trailer && grpcStatus(trailer) !== 0 && !reached()) replace(trailer);
    })(),
  };
};

/** Answers `e` in the protocol of `req` (a refusal before Connect routing, e.g. a rate limit). */
export const sendConnectError = (req: AnyRequest, res: AnyResponse, e: DomainError, headers: Record<string, string> = {}) => {
  const err = toConnectError(e);
  const protocol = protocolOf(req.headers['content-type']);
  const w = res as import('node:http').ServerResponse;
  if (protocol === 'connect') {
    const bytes = errorToJsonBytes(err, {});
    w.writeHead(codeToHttpStatus(err.code), { ...headers, 'content-type': 'application/json', 'content-length': String(bytes.byteLength) });
    w.end(bytes);
    return;
  }
  const status = Object.fromEntries(setTrailerStatus(new Headers(), err));
  const contentType = String(req.headers['content-type']);
  if (protocol === 'grpc') {
    w.writeHead(200, { ...headers, 'content-type': contentType });
    w.addTrailers(status);
    w.end();
    return;
  }
  w.writeHead(200, { ...headers, 'content-type': contentType });
  w.end(envelope(TRAILER_FLAG, trailerSerialize(new Headers(status))));
};

export type ConnectAdapterOptions = {
  routes: (router: ConnectRouter) => void;
  interceptors?: Interceptor[];
  jsonOptions?: Partial<JsonWriteOptions & JsonReadOptions>;
  readMaxBytes: number;
  contextValues: (req: AnyRequest) => ContextValues;
  /** Whether a handler of ours was reached for this request (its errors are not rewritten). */
  reached: (req: AnyRequest) => boolean;
  /** A request refused by the library before any handler (decoding, framing, compression, size). */
  onRejected: (req: AnyRequest, label: string) => void;
  fallback: (req: AnyRequest, res: AnyResponse) => void;
  /** Serves a plain unary gRPC call itself (true), else leaves it to Connect (grpc-unary.ts). */
  grpcUnary?: (path: string, req: AnyRequest, res: AnyResponse, viaConnect: ViaConnect) => boolean;
};

export const createConnectAdapter = (o: ConnectAdapterOptions) => {
  const router = createConnectRouter({
    interceptors: o.interceptors ?? [],
    jsonOptions: o.jsonOptions,
    readMaxBytes: o.readMaxBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
    maxTimeoutMs: MAX_TIMEOUT_MS,
  });
  o.routes(router);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));
  return (req: AnyRequest, res: AnyResponse) => {
    const path = (req.url ?? '').split('?', 1)[0]!;
    const handler = paths.get(path);
    if (!handler) return o.fallback(req, res);
    if (badDeadline(req)) {
      o.onRejected(req, 'INVALID_ARGUMENT');
      return sendConnectError(req, res, new DomainError('INVALID_ARGUMENT', `the call's deadline must be at most ${MAX_TIMEOUT_MS} ms`));
    }
    const protocol = protocolOf(req.headers['content-type']);
    const viaConnect = (body?: AsyncIterable<Uint8Array>) => {
      const uReq = universalRequestFromNodeRequest(req, res, undefined, o.contextValues(req));
      handler(body ? { ...uReq, body } : uReq)
        .then((uRes) => sanitise(protocol, uRes, () => o.reached(req), o.readMaxBytes, (label) => o.onRejected(req, label)))
        .then((uRes) => universalResponseToNodeResponse(uRes, res))
        .catch(() => {
          // The client went away or the response could not be written: nothing left to answer.
          if (!res.headersSent) res.destroy();
        });
    };
    if (protocol === 'grpc' && o.grpcUnary?.(path, req, res, viaConnect)) return;
    viaConnect();
  };
};
