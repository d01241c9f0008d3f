// gRPC unary calls without Connect's streaming machinery. Connect serves any call through a chain
// of async iterables (split, decompress, parse, invoke, serialise, compress, join), several promises
// per layer and message: on a small verify that chain cost more CPU than the verification itself.
// The plain call — `application/grpc` or `+proto`, no compression, one message — is decoded, run
// through the same pipeline as every call (runCall, via `handlers`) and answered here, with the
// headers and trailers Connect would write. Anything else (gRPC JSON, compression, broken framing,
// an undecodable or too large message) goes to Connect with the bytes already read, so every
// refusal keeps its one implementation (connect.ts).
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { create, fromBinary, toBinary, type DescMessage, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError, type ContextValues, type HandlerContext } from '@connectrpc/connect';
import { lazyHandlerContext } from './handler-context.ts';
import { setTrailerStatus } from '@connectrpc/connect/protocol-grpc';
import type { Route } from './routes.ts';
import type { AnyRequest, AnyResponse } from './rest.ts';

/** A method's implementation behind the pipeline: failures leave as a ConnectError (toConnectError). */
export type UnaryHandler = (input: Message, ctx: HandlerContext) => Promise<MessageInitShape<DescMessage>>;

export type GrpcUnaryOptions = {
  /** By request path ("/securekey.v1.SmsOtpService/VerifySmsOtp"). */
  methods: ReadonlyMap<string, { route: Route; handler: UnaryHandler }>;
  readMaxBytes: number;
  contextValues: (req: AnyRequest) => ContextValues;
  /** A response that could not be encoded (a bug): logged and counted by the app. */
  onInternal: (req: AnyRequest, err: unknown) => void;
};

/** Hands a call to Connect; `body` replays what was already read, then the rest of the request. */
export type ViaConnect = (body?: AsyncIterable<Uint8Array>) => void;

const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
const HEADER_LEN = 5;

/** The bytes read so far, then whatever the request still has. */
async function* replay(head: readonly Buffer[], req: AnyRequest): AsyncGenerator<Uint8Array> {
  yield* head;
  for await (const chunk of req) yield chunk as Buffer;
}

const envelope = (data: Uint8Array): Buffer => {
  const out = Buffer.allocUnsafe(HEADER_LEN + data.byteLength);
  out[0] = 0;
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, HEADER_LEN);
  return out;
};

/** Returns a function that serves `req` when it is a plain unary gRPC call (true), or leaves it
 * untouched (false) for Connect. */
export const createGrpcUnary = (o: GrpcUnaryOptions) => {
  const eligible = (req: AnyRequest): boolean => {
    const ct = req.headers['content-type']?.toLowerCase();
    if (ct !== 'application/grpc' && ct !== 'application/grpc+proto') return false;
    if (req.method !== 'POST') return false;
    const encoding = req.headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return false;
    const timeout = req.headers['grpc-timeout'];
    return timeout === undefined || (typeof timeout === 'string' && GRPC_TIMEOUT.test(timeout));
  };

  const contextOf = (req: AnyRequest, route: Route) => {
    const timeout = GRPC_TIMEOUT.exec(String(req.headers['grpc-timeout'] ?? ''));
    const deadline = timeout ? Date.now() + Number(timeout[1]) * UNIT_MS[timeout[2]!]! : undefined;
    return lazyHandlerContext({ req, route, protocolName: 'grpc', values: o.contextValues(req), deadline });
  };

  const answer = async (req: AnyRequest, res: Http2ServerResponse, route: Route, handler: UnaryHandler, input: Message) => {
    const call = contextOf(req, route);
    const trailer: Record<string, string> = { 'grpc-status': '0' };
    let body: Buffer | undefined;
    try {
      const out = await handler(input, call.ctx);
      body = envelope(toBinary(route.method.output, create(route.method.output, out)));
    } catch (err) {
      if (!(err instanceof ConnectError)) o.onInternal(req, err);
      Object.assign(trailer, Object.fromEntries(setTrailerStatus(new Headers(), err instanceof ConnectError ? err : new ConnectError('internal error', Code.Internal))));
    } finally {
      call.done();
    }
    if (res.stream.destroyed) return; // the client went away (or cancelled at its deadline)
    const headers: Record<string, string> = { 'content-type': 'application/grpc+proto' };
    call.headers()?.forEach((v, k) => (headers[k] = v));
    call.trailers()?.forEach((v, k) => (trailer[k] = v));
    res.writeHead(200, headers);
    res.addTrailers(trailer);
    if (body) res.end(body);
    else res.end();
  };

  return (path: string, req: AnyRequest, res: AnyResponse, viaConnect: ViaConnect): boolean => {
    const method = o.methods.get(path);
    if (!method || !('stream' in req) || !eligible(req)) return false;
    const h2req = req as Http2ServerRequest;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= HEADER_LEN + o.readMaxBytes) return;
      // Too large for one message: Connect reads on and refuses it (RESOURCE_EXHAUSTED).
      h2req.off('data', onData).off('end', onEnd).pause();
      viaConnect(replay(chunks, req));
    };
    const onEnd = () => {
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      let input: Message | undefined;
      if (size >= HEADER_LEN && all[0] === 0 && all.readUInt32BE(1) === size - HEADER_LEN) {
        try {
          input = fromBinary(method.route.method.input, all.subarray(HEADER_LEN));
        } catch {
          input = undefined; // Connect refuses it in its own words
        }
      }
      if (!input) return viaConnect(replay([all], req));
      answer(req, res as Http2ServerResponse, method.route, method.handler, input).catch(() => {
        if (!res.headersSent) res.destroy();
      });
    };
    h2req.on('data', onData).once('end', onEnd).once('error', () => {}); // a reset stream: nothing to answer
    return true;
  };
};
