// What an operator sees: the start line (URLs, store), JSON logs with level names and ISO times,
// LOG_FORMAT=pretty for humans, one log line per answered request carrying the id the response
// carries (also for requests refused before the pipeline), one-sentence start-up failures; and
// Connect JSON showing default values as REST does.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { logsOf, startChildServer } from './helpers/child-server.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'securekey-operator-'));

/** Runs `node src/main.ts` with env until it exits; resolves with its exit code and output. */
const runServer = (env: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['src/main.ts'], { env: { ...process.env, HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });

describe('the start line and the log format', () => {
  test('JSON by default, with level names and ISO times; the start line gives the URL, API, demo page and store', async () => {
    const dataDir = tempDir();
    try {
      const server = await startChildServer({ SECUREKEY_DATA_DIR: dataDir });
      await server.stop();
      const line = logsOf(server.lines).find((j) => String(j.msg).startsWith('SecureKey listening'))!;
      assert.equal(line.msg, `SecureKey listening on http://localhost:${server.port} (REST, gRPC, gRPC-Web and Connect on one port)`);
      assert.equal(line.level, 'info');
      assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(line.urls, [`http://localhost:${server.port}`]);
      assert.equal(line.api, `http://localhost:${server.port}/api/v1`);
      assert.equal(line.demo, `http://localhost:${server.port}/demo/`);
      assert.equal(line.store, `sqlite (${join(dataDir, 'events.db')})`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('LOG_FORMAT=pretty prints lines for humans: the start line with its URL, each request as "METHOD path → status code"', async () => {
    const dataDir = tempDir();
    const child = spawn(process.execPath, ['src/main.ts'], { env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_FORMAT: 'pretty', SECUREKEY_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const url = (await until('the start line', () => /INFO: SecureKey listening on (http:\/\/localhost:\d+)/.exec(out), 30_000))![1]!;
      assert.doesNotMatch(out, /^\{/m, 'no JSON lines');
      await fetch(`${url}/api/v1/no-such-route`);
      await until('the request line', () => /INFO: GET \/api\/v1\/no-such-route → 404 ROUTE_NOT_FOUND in \d+ ms .*"requestId":"req_/.test(out), 10_000);
    } finally {
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('one log line per answered request', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ SECUREKEY_BODY_LIMIT_BYTES: '1024' }, { logLevel: 'debug' });
  });
  after(() => s?.stop());

  /** The log lines of one request id (logged once the response is complete). */
  const linesOf = async (requestId: string | null) => {
    assert.ok(requestId, 'the response carries x-request-id');
    const lines = await until(`a log line for ${requestId}`, () => {
      const found = logsOf(s.logs).filter((j) => j.requestId === requestId && j.msg === 'request');
      return found.length ? found : undefined;
    });
    return lines!;
  };

  test('every request, whatever answered it, is logged exactly once with the id its response carries', async () => {
    const { apiKey } = await s.createTenant('logs');
    const json = { 'content-type': 'application/json' };
    const cases: { name: string; req: () => Promise<Response>; status: number; code?: string; method?: string; level?: string }[] = [
      { name: 'a REST call', req: () => fetch(`${s.url}/api/v1/otp/verify`, { method: 'POST', headers: { ...json, 'x-api-key': apiKey }, body: '{"phone":"01012345678","code":"123456"}' }), status: 404, code: 'OTP_NOT_FOUND', method: 'SmsOtpService.VerifySmsOtp' },
      { name: 'a REST call without a key', req: () => fetch(`${s.url}/api/v1/otp/send`, { method: 'POST', headers: json, body: '{}' }), status: 401, code: 'UNAUTHORIZED' },
      { name: 'malformed JSON (refused before the pipeline)', req: () => fetch(`${s.url}/api/v1/otp/send`, { method: 'POST', headers: { ...json, 'x-api-key': apiKey }, body: '{bad' }), status: 400, code: 'INVALID_ARGUMENT' },
      { name: 'an unknown REST route', req: () => fetch(`${s.url}/api/v1/nope`, { headers: { 'x-api-key': apiKey } }), status: 404, code: 'ROUTE_NOT_FOUND' },
      { name: 'a wrong verb', req: () => fetch(`${s.url}/api/v1/otp/send`, { headers: { 'x-api-key': apiKey } }), status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'a body over the limit', req: () => fetch(`${s.url}/api/v1/otp/send`, { method: 'POST', headers: { ...json, 'x-api-key': apiKey }, body: JSON.stringify({ phone: 'x'.repeat(2000) }) }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
      { name: 'a Connect call', req: () => fetch(`${s.url}/securekey.v1.SmsOtpService/VerifySmsOtp`, { method: 'POST', headers: { ...json, 'x-api-key': apiKey }, body: '{"phone":"01012345678","code":"123456"}' }), status: 404, code: 'OTP_NOT_FOUND', method: 'SmsOtpService.VerifySmsOtp' },
      { name: 'an unknown path', req: () => fetch(`${s.url}/no/such/path`), status: 404, code: 'ROUTE_NOT_FOUND' },
      { name: 'the demo page', req: () => fetch(`${s.url}/demo/`), status: 200 },
      { name: 'a health probe (debug level)', req: () => fetch(`${s.url}/healthz`), status: 200, level: 'debug' },
      { name: 'a metrics scrape (debug level)', req: () => fetch(`${s.url}/metrics`), status: 200, level: 'debug' },
    ];
    for (const c of cases) {
      const res = await c.req();
      await res.arrayBuffer();
      assert.equal(res.status, c.status, c.name);
      const lines = await linesOf(res.headers.get('x-request-id'));
      assert.equal(lines.length, 1, `${c.name}: ${JSON.stringify(lines)}`);
      const [line] = lines;
      assert.equal(line!.status, c.status, c.name);
      assert.equal(line!.code, c.code, c.name);
      assert.equal(line!.level, c.level ?? 'info', c.name);
      if (c.method) assert.equal(line!.method, c.method, c.name);
      assert.match(String(line!.http), /^(GET|POST) \//, c.name);
    }
  });

  test("a caller's own X-Request-Id is used in the response and the log", async () => {
    const res = await fetch(`${s.url}/api/v1/nope`, { headers: { 'x-request-id': 'trace-4f2a.9' } });
    assert.equal(res.headers.get('x-request-id'), 'trace-4f2a.9');
    assert.equal((await linesOf('trace-4f2a.9')).length, 1);
  });

  test('Connect JSON shows default values as REST does: a wrong code answers verified:false and attemptsRemaining', async () => {
    const { apiKey } = await s.createTenant('connect-json');
    const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
    const sent = await s.call(apiKey, '/api/v1/otp/send', { phone: '01099990000', purpose: 'login' });
    assert.equal(sent.status, 200);
    const res = await fetch(`${s.url}/securekey.v1.SmsOtpService/VerifySmsOtp`, { method: 'POST', headers, body: JSON.stringify({ phone: '01099990000', code: '000000' }) });
    assert.equal(res.status, 200);
    const body = await res.json();
    const rest = await s.call(apiKey, '/api/v1/otp/verify', { phone: '01099990000', code: '000001' });
    assert.deepEqual(Object.keys(body).sort(), Object.keys(rest.body.data).sort());
    assert.equal(body.verified, false);
    assert.equal(typeof body.attemptsRemaining, 'number');
  });
});

describe('start-up failures are one sentence, not a stack trace', () => {
  test('a busy port: says which port, what to do, exit code 2', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    const dataDir = tempDir();
    try {
      const r = await runServer({ PORT: String(port), SECUREKEY_DATA_DIR: dataDir });
      assert.equal(r.code, 2);
      assert.equal(r.stderr.trim(), `cannot listen: port ${port} on 127.0.0.1 is already in use (another SecureKey or another program). Stop it, or choose another port: PORT=${port + 1} npm start`);
    } finally {
      blocker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('an unknown LOG_FORMAT or LOG_LEVEL is a configuration error naming the choices', () => {
    const env = { SECUREKEY_MASTER_KEY: 'k'.repeat(44) };
    assert.throws(() => loadConfig({ ...env, LOG_FORMAT: 'fancy' }), { name: 'ConfigError', message: 'LOG_FORMAT must be one of json, pretty, got "fancy"' });
    assert.throws(() => loadConfig({ ...env, LOG_LEVEL: 'verbose' }), { name: 'ConfigError', message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"' });
    assert.equal(loadConfig({ ...env, LOG_FORMAT: 'pretty' }).logFormat, 'pretty');
  });
});
