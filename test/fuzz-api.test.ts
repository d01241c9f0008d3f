// A bounded fuzz suite (fast-check, fixed seed): malformed and hostile input to every route of the
// OpenAPI document over REST, and to every method over Connect (JSON and binary), gRPC-Web and
// gRPC. Whatever comes in: no answer is a 5xx, INTERNAL or UNKNOWN, every error is in the REST
// envelope or the protocol's own error form, and the server is alive after.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { create, toBinary, type DescField, type DescMessage } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { buildRoutes, type Route } from '../src/api/routes.ts';
import { ERROR_CODES } from '../src/domain/errors.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from './helpers/server.ts';

const SEED = 20261111;
const ROUTES = buildRoutes();
const KNOWN_CODES = new Set<string>(ERROR_CODES);
const CONNECT_CODES = new Set(['canceled', 'invalid_argument', 'deadline_exceeded', 'not_found', 'already_exists', 'permission_denied', 'resource_exhausted', 'failed_precondition', 'aborted', 'out_of_range', 'unimplemented', 'unauthenticated']);
/** gRPC codes a hostile request must never produce: UNKNOWN (2), INTERNAL (13), UNAVAILABLE (14), DATA_LOSS (15). */
const SERVER_FAULTS = new Set([2, 13, 14, 15]);

// ── hostile values ───────────────────────────────────────────────────────────────────────────
const nasty = fc.constantFrom(
  '', ' ', '\u0000', '\ud800', '\u202e', '../../etc/passwd', '%00', '%', '<script>alert(1)</script>', "' OR 1=1 --", '${jndi:ldap://x}',
  '01012345678', '+821012345678', 'user@example.com', 'USER@Example.COM', 'http://169.254.169.254/', 'http://[::1]:8080/', 'http://0x7f000001/',
  'NaN', '-0', '1e400', '9'.repeat(40), 'true', 'null', '{}', '[]', 'pr_AAAAAAAAAAAAAAAAAAAAAA', 'tn_x', '2fa_x', 'approve', 'deny', 'ios', 'sms',
);
const hostileString = fc.oneof(
  { weight: 3, arbitrary: nasty },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 257, maxLength: 5000 }) },
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
);

const fieldNames = (m: DescMessage) => m.fields.flatMap((f) => [f.jsonName, f.name]);
/** An object shaped like the method's input, every value hostile, with some keys that are not fields. */
const hostileObject = (route: Route) =>
  fc.dictionary(fc.constantFrom(...fieldNames(route.method.input), 'extra', '__proto__', 'constructor', 'credential'), hostileValue, { maxKeys: 8 });

/** A message with hostile strings in its string fields (valid protobuf), as binary. */
const hostileMessage = (m: DescMessage) =>
  fc.array(hostileString, { minLength: m.fields.length, maxLength: m.fields.length }).map((values) => {
    const init: Record<string, unknown> = {};
    m.fields.forEach((f: DescField, i) => {
      if (f.fieldKind === 'scalar' && f.scalar === 9 /* STRING */) init[f.localName] = values[i]!.replace(/[\ud800-\udfff]/g, '');
    });
    return toBinary(m, create(m, init));
  });

/** Binary that is sometimes valid protobuf, often broken: truncated, bit-flipped, or noise. */
const hostileBinary = (route: Route) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    hostileMessage(route.method.input),
    fc.tuple(hostileMessage(route.method.input), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, x]) => {
      const out = Uint8Array.from(b);
      if (out.length > 0) out[at % out.length] ^= x;
      return out;
    }),
    fc.tuple(hostileMessage(route.method.input), fc.nat()).map(([b, n]) => b.subarray(0, b.length ? n % b.length : 0)),
  );

/** A gRPC / gRPC-Web body: one or two frames with hostile flags and lengths. */
const hostileFrames = (route: Route) =>
  fc.tuple(hostileBinary(route), fc.constantFrom(0, 0, 0, 1, 2, 0x80, 0xff), fc.constantFrom(0, 0, 0, 1, -1, 1000, 1 << 30), fc.boolean()).map(([payload, flags, lengthDelta, twice]) => {
    const frame = Buffer.alloc(5 + payload.length);
    frame[0] = flags;
    frame.writeUInt32BE(Math.max(0, Math.min(0xffffffff, payload.length + lengthDelta)), 1);
    frame.set(payload, 5);
    return twice ? Buffer.concat([frame, frame]) : frame;
  });

const auth = fc.constantFrom('tenant', 'admin', 'none', 'garbage', 'both');

describe('fuzz: hostile input on every route and transport', () => {
  let s: TestServer;
  let apiKey = '';
  const headersFor = (who: string): Record<string, string> => {
    if (who === 'tenant') return { 'x-api-key': apiKey };
    if (who === 'admin') return { 'x-admin-token': ADMIN_TOKEN };
    if (who === 'both') return { 'x-api-key': apiKey, 'x-admin-token': ADMIN_TOKEN };
    if (who === 'garbage') return { 'x-api-key': '2fa_' + 'A'.repeat(32), authorization: 'Bearer \u00ff' };
    return {};
  };
  const connectPath = (r: Route) => `/${r.service.typeName}/${r.method.name}`;
  let answers = 0;

  before(async () => {
    s = await startTestServer({ SECUREKEY_HEADERS_TIMEOUT_MS: '5000', SECUREKEY_REQUEST_TIMEOUT_MS: '5000' });
    apiKey = (await s.createTenant('fuzz')).apiKey;
  });
  after(async () => {
    await s.stop();
  });

  test('REST: every route of the OpenAPI document, hostile paths, verbs, bodies and keys: no 5xx, every error in the envelope', async () => {
    const doc = (await (await fetch(`${s.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((verb) => ({ path, verb: verb.toUpperCase() })));
    assert.equal(documented.length, ROUTES.length, 'the OpenAPI document lists every route');
    const body = fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...ROUTES).chain(hostileObject).map((o) => JSON.stringify(o)) },
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc.json({ maxDepth: 2 }),
      fc.constantFrom('{', '{"a":', '[1,2]', 'null', '"x"', '\u0000\u0001', '{"phone":"0101234' + '5'.repeat(70_000) + '"}'),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...documented), hostileString, fc.constantFrom('same', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH'), body, auth, fc.boolean(), async (op, segment, verb, text, who, query) => {
        const enc = encodeURIComponent(segment.toWellFormed());
        const path = op.path.replace(/\{[^}]+\}/g, () => enc.slice(0, 2000)) + (query ? `?userId=${enc.slice(0, 500)}&limit=${enc.slice(0, 50)}` : '');
        const method = verb === 'same' ? op.verb : verb;
        const res = await fetch(s.url + path, { method, headers: { 'content-type': 'application/json', ...headersFor(who) }, body: method === 'GET' ? undefined : text });
        answers++;
        const raw = await res.text();
        assert.ok(res.status < 500, `${method} ${path} answered ${res.status}: ${raw.slice(0, 200)}`);
        const json = JSON.parse(raw) as { success: boolean; code?: string; error?: string };
        if (res.status >= 400) {
          assert.equal(json.success, false, raw.slice(0, 200));
          assert.ok(KNOWN_CODES.has(String(json.code)), `unknown code ${json.code}`);
          assert.equal(typeof json.error, 'string');
          assert.ok(!/at .+\.ts:\d+|node_modules|cannot decode|premature EOF/.test(json.error!), `internal detail in: ${json.error}`);
        } else assert.equal(json.success, true);
      }),
      { seed: SEED, numRuns: 900 },
    );
  });

  const checkConnect = async (res: Response, label: string) => {
    answers++;
    const raw = Buffer.from(await res.arrayBuffer());
    assert.ok(res.status < 500, `${label} answered ${res.status}: ${raw.toString().slice(0, 200)}`);
    if (res.status === 200 || res.status === 415 || res.status === 405) return;
    const err = JSON.parse(raw.toString('utf8')) as { code: string; message?: string };
    assert.ok(CONNECT_CODES.has(err.code), `${label}: code ${err.code}`);
    assert.ok(!/parse binary|premature EOF|cannot decode|JSON input/.test(err.message ?? ''), `${label}: parser text ${err.message}`);
  };

  test('Connect JSON: every method, hostile JSON: no 5xx, errors in the Connect form without parser text', async () => {
    const body = (r: Route) => fc.oneof({ weight: 4, arbitrary: hostileObject(r).map((o) => JSON.stringify(o)) }, fc.string({ unit: 'binary', maxLength: 60 }), fc.constantFrom('{', '[]', 'null', '{"a":'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES).chain((r) => fc.tuple(fc.constant(r), body(r))), auth, fc.constantFrom('', 'gzip', 'br', 'foo'), async ([r, text], who, encoding) => {
        const res = await fetch(s.url + connectPath(r), { method: 'POST', headers: { 'content-type': 'application/json', ...(encoding ? { 'content-encoding': encoding } : {}), ...headersFor(who) }, body: text });
        await checkConnect(res, `${connectPath(r)} json`);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  test('Connect binary: every method, hostile protobuf: no 5xx, errors in the Connect form without parser text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES).chain((r) => fc.tuple(fc.constant(r), hostileBinary(r))), auth, async ([r, bytes], who) => {
        const res = await fetch(s.url + connectPath(r), { method: 'POST', headers: { 'content-type': 'application/proto', ...headersFor(who) }, body: bytes });
        await checkConnect(res, `${connectPath(r)} proto`);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  /** grpc-status of a gRPC-Web answer: in the headers (trailers-only) or the trailer frame. */
  const grpcWebStatus = (headers: Headers, body: Buffer): { status: number; message: string } | undefined => {
    if (headers.get('grpc-status') !== null) return { status: Number(headers.get('grpc-status')), message: decodeURIComponent(headers.get('grpc-message') ?? '') };
    for (let i = 0; i + 5 <= body.length; ) {
      const len = body.readUInt32BE(i + 1);
      if (body[i]! & 0x80) {
        const text = body.subarray(i + 5, i + 5 + len).toString('latin1');
        const status = /grpc-status:\s*(\d+)/i.exec(text)?.[1];
        return status === undefined ? undefined : { status: Number(status), message: decodeURIComponent(/grpc-message:\s*([^\r\n]*)/i.exec(text)?.[1] ?? '') };
      }
      i += 5 + len;
    }
    return undefined;
  };

  test('gRPC-Web: every method, hostile frames: always a gRPC status, never INTERNAL or UNKNOWN', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES).chain((r) => fc.tuple(fc.constant(r), hostileFrames(r))), auth, fc.constantFrom('application/grpc-web', 'application/grpc-web+proto', 'application/grpc-web+json'), async ([r, frames], who, contentType) => {
        const res = await fetch(s.url + connectPath(r), { method: 'POST', headers: { 'content-type': contentType, 'x-grpc-web': '1', ...headersFor(who) }, body: frames });
        answers++;
        const body = Buffer.from(await res.arrayBuffer());
        assert.ok(res.status < 500, `${connectPath(r)} grpc-web answered ${res.status}`);
        if (res.status !== 200) return;
        const st = grpcWebStatus(res.headers, body);
        assert.ok(st, `${connectPath(r)}: no grpc-status`);
        assert.ok(!SERVER_FAULTS.has(st.status), `${connectPath(r)}: grpc-status ${st.status} ${st.message}`);
        assert.ok(!/parse binary|premature EOF|cannot decode/.test(st.message), st.message);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  test('gRPC over HTTP/2: every method, hostile frames, encodings and timeouts: always a gRPC status, never INTERNAL or UNKNOWN', async () => {
    const session = http2.connect(s.url);
    session.on('error', () => {});
    const call = (path: string, headers: Record<string, string>, body: Buffer) =>
      new Promise<{ status: number | undefined; grpcStatus: string | undefined; message: string }>((resolve) => {
        const st = session.request({ ':method': 'POST', ':path': path, ...headers });
        let h: http2.IncomingHttpHeaders = {};
        let t: http2.IncomingHttpHeaders = {};
        st.on('response', (x) => (h = x));
        st.on('trailers', (x) => (t = x));
        st.on('error', () => {});
        st.resume();
        st.on('close', () => {
          const g = (t['grpc-status'] ?? h['grpc-status']) as string | undefined;
          resolve({ status: Number(h[':status']), grpcStatus: g, message: decodeURIComponent(String(t['grpc-message'] ?? h['grpc-message'] ?? '')) });
        });
        st.end(body);
      });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ROUTES).chain((r) => fc.tuple(fc.constant(r), hostileFrames(r))),
          auth,
          fc.constantFrom('application/grpc', 'application/grpc+proto', 'application/grpc+json'),
          fc.constantFrom('', 'gzip', 'identity', 'deflate', 'foo'),
          fc.constantFrom('', '5S', '1n', 'xyz', '99999999H'),
          async ([r, frames], who, contentType, encoding, timeout) => {
            const headers: Record<string, string> = { 'content-type': contentType, te: 'trailers', ...headersFor(who) };
            if (encoding) headers['grpc-encoding'] = encoding;
            if (timeout) headers['grpc-timeout'] = timeout;
            const a = await call(connectPath(r), headers, frames);
            answers++;
            assert.equal(a.status, 200, `${connectPath(r)}: HTTP ${a.status}`);
            assert.ok(a.grpcStatus !== undefined, `${connectPath(r)}: no grpc-status`);
            assert.ok(!SERVER_FAULTS.has(Number(a.grpcStatus)), `${connectPath(r)}: grpc-status ${a.grpcStatus} ${a.message}`);
            assert.ok(!/parse binary|premature EOF|cannot decode/.test(a.message), a.message);
          },
        ),
        { seed: SEED, numRuns: 400 },
      );
    } finally {
      session.close();
    }
  });

  test('the server is alive after the fuzzing: health, and an ordinary call still works', async () => {
    assert.ok(answers >= 2500, `${answers} hostile requests were answered`);
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    const r = await s.call(apiKey, '/api/v1/email-otp/send', { email: 'after-fuzz@example.com', purpose: 'login' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(!s.logs.some((l) => JSON.parse(l).level >= 50), 'no error was logged: ' + s.logs.filter((l) => JSON.parse(l).level >= 50).slice(0, 3).join('\n'));
  });
});
