// Hostile clients at the connection level, over real sockets: the client address on HTTP/2 is the
// real socket's, connections get deadlines, a client address may hold only so many connections,
// an HTTP/2 session only so many streams.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { SmsOtpService } from '../src/gen/securekey/v1/otp_pb.js';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

/** A TCP connection to the server from a chosen loopback source address. */
const connectFrom = (port: number, localAddress: string) => net.connect({ host: '127.0.0.1', port, localAddress });

/** Resolves when the socket is closed by the server (with what it answered), after sending `payload`. */
const openAndWait = (port: number, payload: string | Buffer | undefined, localAddress = '127.0.0.1') => {
  const socket = connectFrom(port, localAddress);
  socket.on('error', () => {});
  let received = '';
  socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
  if (payload !== undefined) socket.once('connect', () => socket.write(payload));
  const closed = new Promise<string>((r) => socket.once('close', () => r(received)));
  return { socket, closed };
};

describe('edge: the client address of every transport is the real socket\'s', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ SECUREKEY_RATE_LIMIT_UNAUTHENTICATED: '3', SECUREKEY_RATE_LIMIT_SEND: '1' });
  });
  after(() => s.stop());

  const grpcFrom = (localAddress: string) =>
    createClient(SmsOtpService, createGrpcTransport({ baseUrl: s.url, nodeOptions: { createConnection: () => connectFrom(s.port, localAddress) } }));
  const h2cConnectFrom = (localAddress: string) =>
    createClient(SmsOtpService, createConnectTransport({ baseUrl: s.url, httpVersion: '2', nodeOptions: { createConnection: () => connectFrom(s.port, localAddress) } }));
  const codeOf = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'Ok';
    } catch (err) {
      return Code[ConnectError.from(err).code];
    }
  };

  test('gRPC and h2c callers from 127.0.0.2 and 127.0.0.3 have separate buckets', async () => {
    const body = { phone: '01012345678', purpose: 'login' };
    const fromTwo = grpcFrom('127.0.0.2');
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await codeOf(fromTwo.sendSmsOtp(body)));
    assert.deepEqual(seen, ['Unauthenticated', 'Unauthenticated', 'Unauthenticated', 'ResourceExhausted']);
    assert.equal(await codeOf(h2cConnectFrom('127.0.0.2').sendSmsOtp(body)), 'ResourceExhausted', 'h2c Connect from the same address shares its bucket');
    assert.equal(await codeOf(grpcFrom('127.0.0.3').sendSmsOtp(body)), 'Unauthenticated', 'another address is not limited');
    assert.equal(await codeOf(h2cConnectFrom('127.0.0.3').sendSmsOtp(body)), 'Unauthenticated');
  });

  test('a tenant calling over gRPC from two addresses has a send bucket per address', async () => {
    const t = await s.createTenant('two-addresses');
    const auth = { headers: { 'x-api-key': t.apiKey } };
    assert.equal(await codeOf(grpcFrom('127.0.0.2').sendSmsOtp({ phone: '01011112222', purpose: 'login' }, auth)), 'Ok');
    assert.equal(await codeOf(grpcFrom('127.0.0.2').sendSmsOtp({ phone: '01011113333', purpose: 'login' }, auth)), 'ResourceExhausted');
    assert.equal(await codeOf(h2cConnectFrom('127.0.0.3').sendSmsOtp({ phone: '01011114444', purpose: 'login' }, auth)), 'Ok');
  });

  test('events and the audit trail record the real address of an HTTP/2 caller', async () => {
    const t = await s.createTenant('h2-address');
    const client = createClient(SmsOtpService, createGrpcTransport({ baseUrl: s.url, nodeOptions: { createConnection: () => connectFrom(s.port, '127.0.0.3') } }));
    const from = s.head();
    await client.sendSmsOtp({ phone: '01099990000', purpose: 'login' }, { headers: { 'x-api-key': t.apiKey } });
    const issued = s.opened(from).filter((e) => e.type === 'OtpIssued');
    assert.equal(issued.length, 1);
    assert.equal(issued[0]!.metadata.clientIp, '127.0.0.3');
    const audit = await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/audit`);
    const sms = audit.body.data.records.filter((r: { channel: string }) => r.channel === 'sms');
    assert.ok(sms.length > 0);
    for (const r of sms) assert.equal(r.clientIp, '127.0.0.0', 'the audit trail keeps the /24 of the real address');
  });
});

describe('edge: deadlines on HTTP/1.1 and HTTP/2', () => {
  let s: TestServer;
  // A key, so that requests with a body are read (a method without one is refused before its body).
  let apiKey = '';
  before(async () => {
    // Short enough to wait for, long enough for a loaded machine; the keep-alive deadline is whole
    // seconds, as the Keep-Alive header tells clients (fetch then stops reusing a connection 1 s
    // before the server closes it: with less, a pooled connection races the server's close).
    s = await startTestServer({
      SECUREKEY_HEADERS_TIMEOUT_MS: '1000',
      SECUREKEY_REQUEST_TIMEOUT_MS: '2000',
      SECUREKEY_KEEPALIVE_TIMEOUT_MS: '2000',
      SECUREKEY_IDLE_TIMEOUT_MS: '3000',
    });
    apiKey = (await s.createTenant('deadlines')).apiKey;
  });
  after(() => s.stop());

  test('sockets that send nothing, half a request line, half the headers, part of a body or part of the preface are closed', async () => {
    const started = Date.now();
    const probes = {
      nothing: openAndWait(s.port, undefined),
      halfRequestLine: openAndWait(s.port, 'POST /api/v1/ot'),
      halfHeaders: openAndWait(s.port, 'POST /api/v1/otp/send HTTP/1.1\r\nHost: x\r\nContent-Ty'),
      partOfBody: openAndWait(s.port, `POST /api/v1/otp/send HTTP/1.1\r\nHost: x\r\nX-API-Key: ${apiKey}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"phone":`),
      partOfPreface: openAndWait(s.port, PREFACE.slice(0, 10)),
      prefaceOnly: openAndWait(s.port, PREFACE),
    };
    const answers = Object.fromEntries(await Promise.all(Object.entries(probes).map(async ([k, p]) => [k, await p.closed])));
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 20_000, `all closed, in ${elapsed} ms`);
    assert.match(answers.halfHeaders, /^HTTP\/1\.1 408/, 'HTTP/1.1 answers 408 Request Timeout');
    assert.match(answers.partOfBody, /^HTTP\/1\.1 408/);
  });

  test('a slow drip of headers or body does not keep a connection open past its deadline', async () => {
    const dripping = (head: string, drip: string) => {
      const p = openAndWait(s.port, head);
      const timer = setInterval(() => p.socket.writable && p.socket.write(drip), 50);
      return p.closed.finally(() => clearInterval(timer));
    };
    const started = Date.now();
    await Promise.all([
      dripping('GET /healthz HTTP/1.1\r\n', 'X-Slow: 1\r\n'),
      dripping(`POST /api/v1/otp/send HTTP/1.1\r\nHost: x\r\nX-API-Key: ${apiKey}\r\nContent-Length: 100000\r\n\r\n`, 'a'),
    ]);
    assert.ok(Date.now() - started < 20_000);
  });

  test('HTTP/2: a stream whose body never completes gets 408, a session without streams is closed, a kept-alive HTTP/1.1 connection too', async () => {
    const session = http2.connect(s.url);
    session.on('error', () => {});
    const stream = session.request({ ':method': 'POST', ':path': '/api/v1/otp/send', 'content-type': 'application/json', 'x-api-key': apiKey });
    stream.on('error', () => {});
    stream.write('{"phone":'); // and never end it
    const status = await new Promise<number | undefined>((r) => {
      stream.once('response', (h) => r(h[':status']));
      stream.once('close', () => r(undefined));
    });
    assert.equal(status, 408);
    await until('the idle session is closed by the server', () => session.closed || session.destroyed, 15_000);

    const keptAlive = openAndWait(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const answer = await keptAlive.closed;
    assert.match(answer, /^HTTP\/1\.1 200/);
  });

  test('a real client is not bothered: ordinary requests on HTTP/1.1 and HTTP/2 succeed', async () => {
    const r = await fetch(`${s.url}/healthz`);
    assert.equal(r.status, 200);
    const session = http2.connect(s.url);
    const answer = await new Promise<number | undefined>((resolve) => {
      const st = session.request({ ':path': '/healthz' });
      st.once('response', (h) => resolve(h[':status']));
      st.resume();
    });
    session.close();
    assert.equal(answer, 200);
  });
});

describe('edge: caps on connections per client address and streams per HTTP/2 session', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ SECUREKEY_MAX_CONNECTIONS_PER_CLIENT: '3', SECUREKEY_H2_MAX_STREAMS: '2', SECUREKEY_HEADERS_TIMEOUT_MS: '20000' });
  });
  after(() => s.stop());

  test('a 4th concurrent connection from one address is closed at once; another address still connects', async () => {
    const held = [1, 2, 3].map(() => openAndWait(s.port, undefined, '127.0.0.2'));
    await Promise.all(held.map((h) => new Promise((r) => h.socket.once('connect', r))));
    // The server counts a connection when it accepts it: make sure all three are counted.
    await until('three connections accepted', async () => (await fetch(`${s.url}/healthz`)).ok);
    const fourth = openAndWait(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', '127.0.0.2');
    assert.equal(await fourth.closed, '', 'closed without an answer');
    const other = await new Promise<string>((resolve) => {
      const c = openAndWait(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', '127.0.0.3');
      void c.closed.then(resolve);
    });
    assert.match(other, /^HTTP\/1\.1 200/);
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    const again = openAndWait(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', '127.0.0.2');
    assert.match(await again.closed, /^HTTP\/1\.1 200/, 'the address may connect again once its connections are closed');
  });

  test('an HTTP/2 session is told it may open 2 streams at a time', async () => {
    const session = http2.connect(s.url);
    await new Promise<void>((r) => session.once('remoteSettings', () => r()));
    assert.equal(session.remoteSettings.maxConcurrentStreams, 2);
    session.close();
  });
});
