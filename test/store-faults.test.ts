import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { SmsOtpService } from '../src/gen/securekey/v1/otp_pb.js';
import { createFaultSwitch } from './helpers/faulty-store.ts';
import { grpcCall } from './helpers/grpc.ts';
import { startTestServer } from './helpers/server.ts';
import { startChildServer } from './helpers/child-server.ts';
import { until } from './helpers/until.ts';

test('store unavailable while running: /readyz false, calls answer 503 UNAVAILABLE quickly, and it recovers by itself', async () => {
  const fault = createFaultSwitch();
  const s = await startTestServer({}, { wrapStore: fault.wrap });
  try {
    const t = await s.createTenant('faults');
    const body = { phone: '01012345678', purpose: 'login' };
    fault.set(true);
    const ready = await fetch(`${s.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { store: string }).store, 'unavailable');
    const started = Date.now();
    const r = await s.call(t.apiKey, '/api/v1/otp/send', body);
    assert.ok(Date.now() - started < 5000, 'answers quickly, no hang');
    assert.equal(r.status, 503);
    assert.deepEqual(r.body, { success: false, error: 'the event store is unavailable; retry shortly', code: 'UNAVAILABLE', retryAfter: 1 });
    assert.equal(r.headers.get('retry-after'), '1');
    const g = await grpcCall(`127.0.0.1:${s.port}`, SmsOtpService.method.sendSmsOtp, body, { 'x-api-key': t.apiKey });
    assert.equal(!g.ok && g.code, GrpcStatus.UNAVAILABLE);
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200, 'the process itself is alive');

    fault.set(false);
    await until('ready again', async () => (await fetch(`${s.url}/readyz`)).status === 200);
    const ok = await s.call(t.apiKey, '/api/v1/otp/send', body);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  } finally {
    fault.set(false);
    await s.stop();
  }
});

test('store unavailable at start-up: the server starts anyway, is not ready, then catches up when the store is back', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-faults-'));
  try {
    const first = await startTestServer({}, { dataDir });
    const t = await first.createTenant('before');
    await first.stop();

    const fault = createFaultSwitch();
    fault.set(true);
    const s = await startTestServer({ SECUREKEY_MASTER_KEY: first.config.env.SECUREKEY_MASTER_KEY! }, { dataDir, wrapStore: fault.wrap });
    try {
      assert.equal((await fetch(`${s.url}/readyz`)).status, 503);
      const r = await s.call(t.apiKey, '/api/v1/otp/send', { phone: '01012345678', purpose: 'login' });
      assert.equal(r.status, 503);
      fault.set(false);
      await until('ready after the store came back', async () => (await fetch(`${s.url}/readyz`)).status === 200);
      const ok = await s.call(t.apiKey, '/api/v1/otp/send', { phone: '01012345678', purpose: 'login' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a server process pointed at a KurrentDB address where nothing listens starts, is not ready, answers 503 quickly, and stops cleanly', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-kdb-'));
  const admin = 'kurrent-down-admin-token-123';
  const node = await startChildServer({ SECUREKEY_EVENTSTORE: 'kurrentdb://127.0.0.1:1?tls=false', SECUREKEY_DATA_DIR: dataDir, SECUREKEY_ADMIN_TOKEN: admin });
  try {
    const ready = await fetch(`${node.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { store: string }).store, 'unavailable');
    const started = Date.now();
    const r = await fetch(`${node.url}/api/v1/admin/tenants`, { method: 'POST', headers: { 'x-admin-token': admin, 'content-type': 'application/json' }, body: '{"name":"nowhere"}' });
    assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);
    assert.equal(r.status, 503);
    assert.equal(((await r.json()) as { code: string }).code, 'UNAVAILABLE');
    assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  assert.equal(await node.exited, 0);
});
