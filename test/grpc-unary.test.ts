// A plain unary gRPC call is served without Connect's streaming machinery (src/api/grpc-unary.ts);
// a call with compression goes through Connect. Both must look the same on the wire.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { fromBinary, toBinary, create, type DescMessage } from '@bufbuild/protobuf';
import { SendSmsOtpRequestSchema, SendOtpResponseSchema, VerifySmsOtpRequestSchema, VerifyOtpResponseSchema } from '../src/gen/securekey/v1/otp_pb.js';
import { startTestServer, type TestServer } from './helpers/server.ts';

type Answer = { headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: Buffer };

const frame = (message: Uint8Array) => {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
};

// Headers that differ between any two answers, whoever made them.
const VOLATILE = new Set([':status', 'date', 'x-request-id', 'ratelimit-remaining', 'ratelimit-reset']);
const stable = (h: http2.IncomingHttpHeaders) => Object.fromEntries(Object.entries(h).filter(([k]) => !VOLATILE.has(k)));

describe('gRPC unary calls', () => {
  let s: TestServer;
  let apiKey: string;
  before(async () => {
    s = await startTestServer();
    apiKey = (await s.createTenant('grpc-unary')).apiKey;
  });
  after(() => s.stop());

  const call = (path: string, message: Uint8Array, headers: Record<string, string> = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const c = http2.connect(s.url);
      c.on('error', reject);
      const st = c.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'x-api-key': apiKey, ...headers });
      const a: Answer = { headers: {}, trailers: {}, body: Buffer.alloc(0) };
      const chunks: Buffer[] = [];
      st.on('response', (h) => (a.headers = h));
      st.on('trailers', (t) => (a.trailers = t));
      st.on('data', (d: Buffer) => chunks.push(d));
      st.on('close', () => {
        c.close();
        a.body = Buffer.concat(chunks);
        resolve(a);
      });
      st.end(frame(message));
    });
  const decode = <D extends DescMessage>(desc: D, a: Answer) => {
    assert.equal(a.body[0], 0, 'an uncompressed message');
    assert.equal(a.body.readUInt32BE(1), a.body.length - 5, 'one whole message');
    return fromBinary(desc, a.body.subarray(5));
  };
  // grpc-encoding gzip with an uncompressed message: valid, and not the plain call, so Connect serves it.
  const viaConnect = { 'grpc-encoding': 'gzip' };

  test('an answer: the same headers, trailers and message as Connect gives', async () => {
    const phone = '01012345678';
    const sent = await call('/securekey.v1.SmsOtpService/SendSmsOtp', toBinary(SendSmsOtpRequestSchema, create(SendSmsOtpRequestSchema, { phone })));
    assert.equal(sent.trailers['grpc-status'], '0', String(sent.trailers['grpc-message']));
    assert.ok(decode(SendOtpResponseSchema, sent).expiresIn > 0);

    const wrong = toBinary(VerifySmsOtpRequestSchema, create(VerifySmsOtpRequestSchema, { phone, code: '000000' }));
    const plain = await call('/securekey.v1.SmsOtpService/VerifySmsOtp', wrong);
    const connect = await call('/securekey.v1.SmsOtpService/VerifySmsOtp', wrong, viaConnect);
    assert.equal(connect.headers['grpc-encoding'], 'gzip', 'the Connect path answered');
    assert.equal(plain.headers['grpc-encoding'], undefined);
    delete connect.headers['grpc-encoding'];
    assert.deepEqual(stable(plain.headers), stable(connect.headers));
    assert.deepEqual(plain.trailers, connect.trailers);
    const [p, c] = [decode(VerifyOtpResponseSchema, plain), decode(VerifyOtpResponseSchema, connect)];
    assert.equal(p.verified, false);
    assert.equal(c.verified, false);
    assert.equal(p.attemptsRemaining, c.attemptsRemaining + 1, 'each call counted one attempt');
  });

  test('an error: the same status, message and ErrorDetail in the trailers as Connect gives', async () => {
    const unknown = toBinary(VerifySmsOtpRequestSchema, create(VerifySmsOtpRequestSchema, { phone: '01099990000', code: '123456' }));
    const plain = await call('/securekey.v1.SmsOtpService/VerifySmsOtp', unknown);
    const connect = await call('/securekey.v1.SmsOtpService/VerifySmsOtp', unknown, viaConnect);
    assert.equal(plain.trailers['grpc-status'], '5', 'NOT_FOUND');
    assert.ok(plain.trailers['grpc-status-details-bin'], 'with our ErrorDetail');
    delete connect.headers['grpc-encoding'];
    assert.deepEqual(stable(plain.headers), stable(connect.headers));
    assert.deepEqual(plain.trailers, connect.trailers);
    assert.equal(plain.body.length, 0);
  });

  test('a client deadline is accepted on the plain path', async () => {
    const unknown = toBinary(VerifySmsOtpRequestSchema, create(VerifySmsOtpRequestSchema, { phone: '01099990001', code: '123456' }));
    const a = await call('/securekey.v1.SmsOtpService/VerifySmsOtp', unknown, { 'grpc-timeout': '5S' });
    assert.equal(a.trailers['grpc-status'], '5');
  });
});
