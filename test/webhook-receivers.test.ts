// The seed's two webhook receivers (Node/Express re-serialising the parsed body, Python/Flask
// HMACing the raw body), ported faithfully, accept our deliveries and refuse a tampered body.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listDeliveries } from '../src/webhooks/deliveries.ts';
import { SIGNATURE_HEADER, signBody, verifyV2 } from '../src/webhooks/sign.ts';
import { createWebhookWorker } from '../src/webhooks/worker.ts';
import { createEnv, type Env, LOCAL_RECEIVERS, silentLog } from './fixtures/webhook-env.ts';
import { until } from './helpers/until.ts';
import { startNodeReceiver } from './fixtures/webhook-node-receiver.ts';

let env: Env;
before(async () => {
  env = await createEnv();
});
after(async () => {
  await env.cleanup();
});

const startWorker = (now: () => number = () => Date.now()) => {
  const w = createWebhookWorker({ egress: LOCAL_RECEIVERS, db: env.db, keyring: env.keyring, openBody: env.personal.openJson, now, log: silentLog, timeoutMs: 2000, maxAttempts: 5, backoff: { baseMs: 20, maxMs: 100 }, pollMs: 20 });
  w.start();
  return w;
};

const startPythonReceiver = async (secret: string) => {
  const child: ChildProcess = spawn('python3', [fileURLToPath(new URL('./fixtures/webhook-receiver.py', import.meta.url))], {
    env: { ...process.env, WEBHOOK_SECRET: secret, PYTHONIOENCODING: 'utf-8', PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`python receiver exited (${code})`)));
    rl.on('line', (l) => {
      const m = /^listening (\d+)$/.exec(l);
      if (m) resolve(Number(m[1]));
      else lines.push(l);
    });
  });
  return {
    url: `http://127.0.0.1:${port}/webhook/securekey`,
    lines,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
};

/** Posts a body with the given headers, as a man in the middle would. */
const post = async (url: string, body: string, headers: Record<string, string>) => (await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } })).status;

test('the seed Node receiver (re-serialises the parsed body) accepts our delivery and refuses a tampered body', async (t) => {
  const receiver = await startNodeReceiver({ secret: 'pending' });
  t.after(() => receiver.close());
  const tenant = await env.createTenant(receiver.url);
  receiver.setSecret(tenant.webhookSecret!);
  const worker = startWorker();
  t.after(() => worker.stop());

  // A user-visible string with non-ASCII text and characters JSON escapes: the body still survives JSON.parse → JSON.stringify.
  await env.otpVerified(tenant.tenantId, '사용자_123 "quoted" \\ back/slash', { attempts: 1 });
  const got = await until('a delivery', () => receiver.accepted[0], 5000);
  assert.equal(got.event, 'verification.succeeded');
  assert.equal(got.channel, 'sms');
  assert.equal(got.data.externalUserId, '사용자_123 "quoted" \\ back/slash');
  assert.equal(got.data.destination, '+82 10-****-5678');
  assert.deepEqual(receiver.log, ['sms 인증 완료: 사용자_123 "quoted" \\ back/slash']);
  // No code, hash or encrypted destination leaks into the body.
  assert.doesNotMatch(got.rawBody, /codeHash|destinationEnc|123456|v1\./);
  assert.equal(JSON.stringify(JSON.parse(got.rawBody)), got.rawBody);
  // Replay protection headers and the timestamped signature.
  assert.match(String(got.headers['x-securekey-event-id']), /^[0-9a-f-]{36}$/);
  const ts = Number(got.headers['x-securekey-timestamp']);
  assert.ok(Math.abs(ts - Date.now() / 1000) < 10);
  assert.ok(verifyV2({ header: String(got.headers['x-securekey-signature-v2']), body: got.rawBody, secret: tenant.webhookSecret!, nowSeconds: Math.floor(Date.now() / 1000) }));
  assert.ok(!verifyV2({ header: String(got.headers['x-securekey-signature-v2']), body: got.rawBody, secret: tenant.webhookSecret!, nowSeconds: ts + 3600 }), 'an old timestamp is refused');

  const d = await until('the delivery recorded', () => listDeliveries(env.db, { tenantId: tenant.tenantId, status: 'delivered' }).deliveries[0], 5000);
  assert.deepEqual([d.status, d.attempts, d.lastStatusCode], ['delivered', 1, 200]);

  // Tampering: same signature, altered body.
  const signature = String(got.headers['x-securekey-signature']);
  const tampered = got.rawBody.replace('verification.succeeded', 'verification.failed');
  assert.equal(await post(receiver.url, tampered, { [SIGNATURE_HEADER]: signature }), 401);
  assert.equal(await post(receiver.url, got.rawBody, { [SIGNATURE_HEADER]: signature }), 200, 'the untouched body passes');
});

test('the seed Python receiver (HMAC over the raw body) accepts our delivery and refuses a tampered body', async (t) => {
  const tenant = await env.createTenant('http://127.0.0.1:9/placeholder');
  const py = await startPythonReceiver(tenant.webhookSecret!);
  t.after(() => py.close());
  await env.tenants.changeSettings(tenant.tenantId, { webhookUrl: py.url });
  const pos = await env.otpVerified(tenant.tenantId, 'user_123');
  await env.runner.waitFor(pos);
  const worker = startWorker();
  t.after(() => worker.stop());

  await until('the python receiver to accept', () => py.lines.length > 0, 5000);
  assert.deepEqual(py.lines, ['sms 인증 완료: user_123']);
  const d = await until('the delivery recorded', () => listDeliveries(env.db, { tenantId: tenant.tenantId, status: 'delivered' }).deliveries[0], 5000);
  assert.deepEqual([d.status, d.lastStatusCode], ['delivered', 200]);

  const body = JSON.stringify({ event: 'verification.succeeded', channel: 'sms', data: { externalUserId: 'user_123' } });
  const sig = signBody(tenant.webhookSecret!, body);
  assert.equal(await post(py.url, body.replace('user_123', 'user_999'), { [SIGNATURE_HEADER]: sig }), 401);
  assert.equal(await post(py.url, body, { [SIGNATURE_HEADER]: signBody('whsec_wrong', body) }), 401);
  assert.equal(await post(py.url, body, { [SIGNATURE_HEADER]: sig }), 200);
});

test('after a secret rotation deliveries are signed with the new secret, and with the old one only during the grace period', async (t) => {
  const receiver = await startNodeReceiver({ secret: 'pending' });
  t.after(() => receiver.close());
  const tenant = await env.createTenant(receiver.url);
  const rotated = await env.tenants.rotateWebhookSecret(tenant.tenantId);
  await env.runner.waitFor(rotated.position);
  receiver.setSecret(rotated.webhookSecret);
  let skew = 0;
  const clock = () => Date.now() + skew;
  const worker = startWorker(clock);
  t.after(() => worker.stop());

  await env.otpVerified(tenant.tenantId, 'user_1');
  const first = await until('first delivery', () => receiver.accepted[0], 5000);
  assert.equal(first.headers['x-securekey-signature-previous'], signBody(tenant.webhookSecret!, first.rawBody));
  assert.ok(verifyV2({ header: String(first.headers['x-securekey-signature-v2']), body: first.rawBody, secret: tenant.webhookSecret!, nowSeconds: Math.floor(clock() / 1000) }));

  skew = 25 * 3600_000; // past the 24 h grace period
  await env.otpVerified(tenant.tenantId, 'user_2');
  const second = await until('second delivery', () => receiver.accepted[1], 5000);
  assert.equal(second.headers['x-securekey-signature-previous'], undefined);
  assert.ok(!verifyV2({ header: String(second.headers['x-securekey-signature-v2']), body: second.rawBody, secret: tenant.webhookSecret!, nowSeconds: Math.floor(clock() / 1000) }));
});
