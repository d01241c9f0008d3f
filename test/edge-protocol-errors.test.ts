// Requests the protocol library refuses before any handler runs are the client's error, answered in
// the protocol's own form with a generic message: never INTERNAL, a 5xx, or the parser's text.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

const PATH = '/securekey.v1.SmsOtpService/SendSmsOtp';
const frame = (flags: number, payload: Buffer, length = payload.length) => {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(length, 1);
  return Buffer.concat([head, payload]);
};
const PARSER_TEXT = /parse binary|premature EOF|cannot decode|JSON input|utf-8|decompress|envelope/i;

describe('edge: malformed messages on Connect, gRPC and gRPC-Web', () => {
  let s: TestServer;
  let apiKey: string;
  before(async () => {
    s = await startTestServer();
    apiKey = (await s.createTenant('protocol-errors')).apiKey;
  });
  after(() => s.stop());

  const grpc = (headers: Record<string, string>, body: Buffer) =>
    new Promise<{ http: number; status: number; message: string }>((resolve, reject) => {
      const c = http2.connect(s.url);
      c.on('error', reject);
      const st = c.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc', te: 'trailers', 'x-api-key': apiKey, ...headers });
      let h: http2.IncomingHttpHeaders = {};
      let t: http2.IncomingHttpHeaders = {};
      st.on('response', (x) => (h = x));
      st.on('trailers', (x) => (t = x));
      st.resume();
      st.on('close', () => {
        c.close();
        resolve({ http: Number(h[':status']), status: Number(t['grpc-status'] ?? h['grpc-status']), message: decodeURIComponent(String(t['grpc-message'] ?? h['grpc-message'] ?? '')) });
      });
      st.end(body);
    });

  test('undecodable protobuf and invalid UTF-8 on Connect: 400 invalid_argument, generic message', async () => {
    for (const body of [Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.from([0x0a, 0x02, 0xc3, 0x28])]) {
      const r = await fetch(s.url + PATH, { method: 'POST', headers: { 'content-type': 'application/proto', 'x-api-key': apiKey }, body });
      assert.equal(r.status, 400);
      const e = (await r.json()) as { code: string; message: string };
      assert.equal(e.code, 'invalid_argument');
      assert.doesNotMatch(e.message, PARSER_TEXT);
    }
  });

  test('malformed or mistyped JSON on Connect: 400 invalid_argument without the decoder\'s text', async () => {
    for (const body of ['{"phone":', '{"phone":{"a":1}}', '{"purpose":["SECRET-VALUE"]}']) {
      const r = await fetch(s.url + PATH, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body });
      assert.equal(r.status, 400);
      const text = await r.text();
      assert.doesNotMatch(text, /SECRET-VALUE|cannot decode|expected string/);
    }
  });

  test('an unknown compression on Connect is 400, not 501', async () => {
    const r = await fetch(s.url + PATH, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'foo', 'x-api-key': apiKey }, body: '{}' });
    assert.equal(r.status, 400);
  });

  test('gRPC: the compressed flag without an encoding, undecodable bytes, broken framing: INVALID_ARGUMENT, generic', async () => {
    for (const [what, headers, body] of [
      ['compressed flag, no grpc-encoding', {}, frame(1, Buffer.from([0x0a, 0x00]))],
      ['undecodable protobuf', {}, frame(0, Buffer.from([0x0a, 0xff, 0xff]))],
      ['length larger than the body', {}, frame(0, Buffer.from([0x0a]), 50)],
      ['no message', {}, Buffer.alloc(0)],
      ['two messages for a unary call', {}, Buffer.concat([frame(0, Buffer.alloc(0)), frame(0, Buffer.alloc(0))])],
      ['an unknown grpc-encoding', { 'grpc-encoding': 'foo' }, frame(1, Buffer.from('x'))],
      ['gzip flag over bytes that are not gzip', { 'grpc-encoding': 'gzip' }, frame(1, Buffer.from('not gzip'))],
      ['a deadline no timer can hold', { 'grpc-timeout': '99999999H' }, frame(0, Buffer.alloc(0))],
    ] as const) {
      const a = await grpc(headers, body as Buffer);
      assert.equal(a.http, 200, what);
      assert.equal(a.status, 3, `${what}: INVALID_ARGUMENT, got ${a.status} ${a.message}`);
      assert.doesNotMatch(a.message, PARSER_TEXT, what);
    }
  });

  test('gRPC: an oversized message is RESOURCE_EXHAUSTED with a generic message', async () => {
    const a = await grpc({}, frame(0, Buffer.alloc(70_000)));
    assert.equal(a.status, 8);
    assert.match(a.message, /exceeds 65536 bytes/);
  });

  test('gRPC-Web: undecodable bytes and the compressed flag answer INVALID_ARGUMENT in the trailer frame', async () => {
    for (const body of [frame(0, Buffer.from([0x0a, 0xff, 0xff])), frame(1, Buffer.from([0x0a, 0x00]))]) {
      const r = await fetch(s.url + PATH, { method: 'POST', headers: { 'content-type': 'application/grpc-web+proto', 'x-api-key': apiKey }, body });
      assert.equal(r.status, 200);
      const trailer = Buffer.from(await r.arrayBuffer()).subarray(5).toString('latin1');
      assert.match(trailer, /grpc-status: 3\r\n/);
      assert.doesNotMatch(decodeURIComponent(/grpc-message: ([^\r]*)/.exec(trailer)?.[1] ?? ''), PARSER_TEXT);
    }
  });

  test('an unknown method over gRPC is UNIMPLEMENTED in the gRPC form', async () => {
    const c = http2.connect(s.url);
    const status = await new Promise<string | undefined>((resolve) => {
      const st = c.request({ ':method': 'POST', ':path': '/securekey.v1.SmsOtpService/Nope', 'content-type': 'application/grpc' });
      let found: string | undefined;
      st.on('response', (h) => (found ??= h['grpc-status'] as string | undefined));
      st.on('trailers', (t) => (found ??= t['grpc-status'] as string | undefined));
      st.on('close', () => resolve(found));
      st.resume();
      st.end(frame(0, Buffer.alloc(0)));
    });
    c.close();
    assert.equal(status, '12');
  });
});
