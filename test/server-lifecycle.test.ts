import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startChildServer } from './helpers/child-server.ts';
import { until } from './helpers/until.ts';

test('SIGTERM: stops accepting, finishes the call in flight, closes the store, exits 0', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-sigterm-'));
  try {
    const { child, port, lines, exited } = await startChildServer({ SECUREKEY_DATA_DIR: dataDir, SECUREKEY_SHUTDOWN_GRACE_MS: '5000' });
    const body = JSON.stringify({ phone: '01012345678', purpose: 'login' });
    // A call in flight: headers and half the body sent before SIGTERM.
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/otp/send', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
    });
    req.write(body.slice(0, 10));
    // In flight once the server has its headers: the /metrics request counts itself, so 2. (Its
    // own connection, closed after it: a kept-alive one would be reused by the fetch below.)
    const metrics = () =>
      new Promise<string>((resolve, reject) =>
        http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(text));
        }).on('error', reject),
      );
    await until('the call to be in flight', async () => /^securekey_http_requests_in_flight 2$/m.test(await metrics()));
    child.kill('SIGTERM');
    await until('draining to start', () => lines.some((l) => JSON.parse(l).msg === 'shutting down: draining'));
    // New connections are refused while draining.
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
    req.end(body.slice(10));
    const res = await response;
    assert.equal(res.status, 401); // a complete answer in the envelope (no key was sent)
    assert.equal(JSON.parse(res.body).code, 'UNAUTHORIZED');
    assert.equal(await exited, 0);
    assert.ok(lines.some((l) => JSON.parse(l).msg === 'stopped'));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a bad configuration stops start-up with a clear message and exit code 2', async () => {
  const child = spawn(process.execPath, ['src/main.ts'], { env: { ...process.env, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 2);
  assert.match(err, /PORT must be an integer/);
});
