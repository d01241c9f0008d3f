// The REST transcoder: /api/v1/... JSON ↔ proto, built from the route table at start-up.
// Success: { success: true, message, data }. Failure: { success: false, error, code }.
// Bad JSON, oversized bodies, unknown routes and wrong verbs all answer in the envelope.
import { create, fromJson, ScalarType, toJson, type DescField, type DescMessage, type JsonValue, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import { createContextValues, type HandlerContext } from '@connectrpc/connect';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { DomainError } from '../domain/errors.ts';
import { requestInfoKey, unknownFieldsKey, type RequestInfo } from './context.ts';
import { ERROR_MAP, errorEnvelope, toDomainError } from './errors.ts';
import { hasParams, matchPath, routeFinder, type Route } from './routes.ts';
import { lazyHandlerContext } from './handler-context.ts';

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;

export const REST_PREFIX = '/api/v1';

const scalarNames: Partial<Record<ScalarType, string>> = {
  [ScalarType.STRING]: 'a string',
  [ScalarType.BOOL]: 'true or false',
  [ScalarType.INT32]: 'an integer',
  [ScalarType.INT64]: 'an integer',
  [ScalarType.DOUBLE]: 'a number',
};

const expectedOf = (f: DescField): string => {
  if (f.fieldKind === 'list') return 'an array';
  if (f.fieldKind === 'map') return 'an object';
  if (f.fieldKind === 'message') {
    if (f.message.typeName === 'google.protobuf.Timestamp') return 'an RFC 3339 timestamp string';
    return 'an object';
  }
  if (f.fieldKind === 'scalar') return scalarNames[f.scalar] ?? 'a scalar';
  return 'a valid value';
};

/** A message that names the field and what was expected — never echoes the value (it may be personal data). */
const describeDecodeError = (err: unknown): string => {
  const cause = (err as { cause?: { field?: () => unknown } }).cause;
  const field = typeof cause?.field === 'function' ? (cause.field() as DescField) : undefined;
  if (field && 'jsonName' in field) return `field "${field.jsonName}": expected ${expectedOf(field)}`;
  return 'request body does not match the expected message';
};

export const send = (res: AnyResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  const out: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers };
  (res as ServerResponse).writeHead(status, out);
  res.end(text);
};

export const sendError = (res: AnyResponse, e: DomainError, headers: Record<string, string> = {}) => {
  const h = { ...headers };
  if (e.extras.retryAfterSeconds) h['retry-after'] = String(e.extras.retryAfterSeconds);
  send(res, ERROR_MAP[e.code].http, errorEnvelope(e), h);
};

/** Reads the body up to `limit` bytes; rejects with PAYLOAD_TOO_LARGE past it. */
const readBody = (req: AnyRequest, limit: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new DomainError('PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new DomainError('PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

const parseBody = (buf: Buffer): Record<string, JsonValue> => {
  const text = buf.toString('utf8').trim();
  if (!text) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DomainError('INVALID_ARGUMENT', 'malformed JSON in request body');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new DomainError('INVALID_ARGUMENT', 'request body must be a JSON object');
  return json as Record<string, JsonValue>;
};

/** Query string values as JSON, typed by the input message's fields. */
const queryToJson = (route: Route, params: URLSearchParams): Record<string, JsonValue> => {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of params) {
    const field = route.method.input.fields.find((f) => f.jsonName === k || f.name === k);
    if (!field) continue;
    if (field.fieldKind === 'scalar' && field.scalar === ScalarType.BOOL) out[field.jsonName] = v === 'true' || v === '1';
    else if (field.fieldKind === 'list') out[field.jsonName] = [...((out[field.jsonName] as JsonValue[]) ?? []), v];
    else out[field.jsonName] = v;
  }
  return out;
};

/** JSON paths of the keys `desc` does not declare, in nested messages too (not in lists, maps or
 * well-known types), e.g. "settings.otpLenght". */
const unknownFieldPaths = (desc: DescMessage, json: JsonValue, prefix = ''): string[] => {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(json)) {
    const f = desc.fields.find((x) => x.jsonName === k || x.name === k);
    if (!f) out.push(prefix + k);
    else if (f.fieldKind === 'message' && !f.message.typeName.startsWith('google.protobuf.')) out.push(...unknownFieldPaths(f.message, v, `${prefix}${f.jsonName}.`));
  }
  return out;
};

/** A route's implementation: the decoded request in, the response message (init shape) out. */
export type RestHandler = (input: Message, ctx: HandlerContext) => Promise<MessageInitShape<DescMessage>>;

export type RestDeps = {
  routes: { route: Route; handler: RestHandler }[];
  bodyLimitBytes: number;
  openapi: () => unknown;
  requestInfo: (req: AnyRequest) => RequestInfo;
  onRejected: (info: RequestInfo, code: string) => void;
  /** A bug outside the pipeline (e.g. a result that cannot be rendered as JSON). */
  onInternal: (info: RequestInfo, err: unknown) => void;
};

/** A request target that `new URL` would give back as its path unchanged: segments of letters,
 * digits, "_" and "-" (no query, no dot segments, no escapes, no "//"). */
const PLAIN_TARGET = /^(?:\/[\w-]+)+$/;


export const createRestHandler = (deps: RestDeps) => {
  const routes = deps.routes.map((r) => r.route);
  const findRoute = routeFinder(routes);
  const handlers = new Map(deps.routes.map((r) => [r.route, r.handler]));
  return async (req: AnyRequest, res: AnyResponse) => {
    const info = deps.requestInfo(req);
    const baseHeaders = { 'x-request-id': info.requestId };
    // Every API call's target is a plain path: read as `new URL` would read it, without parsing one.
    const target = req.url ?? '/';
    const url = PLAIN_TARGET.test(target) ? { pathname: target, searchParams: undefined } : new URL(target, 'http://localhost');
    try {
      if (url.pathname === `${REST_PREFIX}/openapi.json` && req.method === 'GET') {
        send(res, 200, deps.openapi(), baseHeaders);
        return;
      }
      // The first route in table order for this path and verb; if none, the verbs the path takes.
      const route = findRoute(req.method, url.pathname);
      if (!route) {
        const parts = url.pathname.split('/').filter(Boolean);
        const verbs = new Set(routes.filter((r) => matchPath(r, parts)).map((r) => r.verb));
        if (verbs.size === 0) throw new DomainError('ROUTE_NOT_FOUND', `no route ${url.pathname}; see ${REST_PREFIX}/openapi.json`);
        const allow = [...verbs].join(', ');
        sendError(res, new DomainError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}; use ${allow}`), { ...baseHeaders, allow });
        deps.onRejected(info, 'METHOD_NOT_ALLOWED');
        return;
      }
      const handler = handlers.get(route)!;
      const json = route.verb === 'GET' ? queryToJson(route, url.searchParams ?? new URLSearchParams()) : parseBody(await readBody(req, deps.bodyLimitBytes));
      const params = hasParams(route) ? matchPath(route, url.pathname.split('/').filter(Boolean))! : {};
      for (const field in params) {
        const f = route.method.input.fields.find((x) => x.name === field)!;
        json[f.jsonName] = params[field]!;
        if (f.name !== f.jsonName) delete json[f.name];
      }
      let input;
      try {
        input = fromJson(route.method.input, json, { ignoreUnknownFields: true });
      } catch (err) {
        throw new DomainError('INVALID_ARGUMENT', describeDecodeError(err));
      }
      const contextValues = createContextValues().set(requestInfoKey, info).set(unknownFieldsKey, unknownFieldPaths(route.method.input, json));
      const call = lazyHandlerContext({ req, route, protocolName: 'rest', values: contextValues });
      const ctx = call.ctx;
      const responseHeaders = () => {
        const set = call.headers();
        return set ? { ...Object.fromEntries(set), ...baseHeaders } : baseHeaders;
      };
      let out: MessageInitShape<DescMessage>;
      try {
        out = await handler(input, ctx);
        call.done();
      } catch (err) {
        call.done();
        sendError(res, toDomainError(err).error, responseHeaders()); // the pipeline logged and counted it
        return;
      }
      let data;
      try {
        data = toJson(route.method.output, create(route.method.output, out), { alwaysEmitImplicit: true });
      } catch (err) {
        deps.onInternal(info, err);
        sendError(res, new DomainError('INTERNAL', 'internal error'), responseHeaders());
        return;
      }
      send(res, 200, { success: true, message: route.option.message || 'OK', data }, responseHeaders());
    } catch (err) {
      // Failures before the call (route, body, JSON): the pipeline never saw them, so count them here.
      const { error } = toDomainError(err);
      deps.onRejected(info, error.code);
      sendError(res, error, baseHeaders);
    }
  };
};
