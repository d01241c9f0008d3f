// `npm run admin -- webhooks list|show|redeliver` on the data directory of a running server: the
// delivery to the seed's Node receiver is listed with its attempt log, and a redelivery queued
// from the CLI arrives from the server within a second or so.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startNodeReceiver, type NodeReceiver } from './fixtures/webhook-node-receiver.ts';
import { jsonOf, runAdmin as admin } from './helpers/cli.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmsGateway } from './helpers/sms-gateway.ts';
import { until } from './helpers/until.ts';

describe('webhooks CLI next to a running server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-cli-webhooks-'));
  const masterKey = randomBytes(32).toString('base64');
  const env = { SECUREKEY_DATA_DIR: dataDir, SECUREKEY_MASTER_KEY: masterKey };
  let s: TestServer;
  let sms: Awaited<ReturnType<typeof startSmsGateway>>;
  let receiver: NodeReceiver;
  let tenantId = '';

  before(async () => {
    sms = await startSmsGateway();
    receiver = await startNodeReceiver({ secret: 'pending' });
    s = await startTestServer({ SECUREKEY_MASTER_KEY: masterKey, SECUREKEY_SMS_PROVIDER: 'http', SECUREKEY_SMS_HTTP_URL: sms.url }, { dataDir });
    const created = jsonOf(await admin(env, 'tenant', 'create', '--name', 'hooks', '--webhook-url', receiver.url, '--json'));
    tenantId = created.tenantId;
    receiver.setSecret(created.webhookSecret);
    const phone = '01077778888';
    await until('the new key accepted', async () => {
      const r = await s.call(created.apiKey, '/api/v1/otp/send', { phone, purpose: 'login', userId: 'user_123' });
      if (r.status === 200) return true;
      assert.equal(r.status, 401, `send: ${r.status}`);
      return false;
    }, 5000);
    const v = await s.call(created.apiKey, '/api/v1/otp/verify', { phone, code: sms.lastCode('+821077778888') });
    assert.equal(v.body.data.verified, true);
    await until('first delivery', () => receiver.accepted.some((a) => a.event === 'verification.succeeded'), 5000);
  });
  after(async () => {
    await s.stop();
    await receiver.close();
    await sms.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('list and show the delivery with its attempt log; redeliver sends it again from the running server', async () => {
    const [list, dead] = await Promise.all([
      admin(env, 'webhooks', 'list', '--tenant', tenantId, '--json'),
      admin(env, 'webhooks', 'list', '--tenant', tenantId, '--status', 'dead', '--json'),
    ]);
    assert.equal(list.code, 0, list.stderr);
    const { deliveries, counts } = jsonOf(list);
    const d = deliveries.find((x: { event: string }) => x.event === 'verification.succeeded');
    assert.ok(d, JSON.stringify(deliveries));
    assert.deepEqual([d.status, d.channel, d.attempts, d.lastStatusCode], ['delivered', 'sms', 1, 200]);
    assert.equal(counts.delivered, deliveries.length);
    assert.deepEqual(jsonOf(dead).deliveries, []);

    const [human, show] = await Promise.all([
      admin(env, 'webhooks', 'list', '--tenant', tenantId, '--status', 'delivered'),
      admin(env, 'webhooks', 'show', '--tenant', tenantId, '--delivery', d.deliveryId),
    ]);
    assert.match(human.stdout, new RegExp(`^${d.deliveryId}\\s+delivered\\s+verification\\.succeeded\\s+sms\\s+attempts 1`, 'm'));
    assert.match(show.stdout, /status: delivered after 1 attempt\(s\)/);
    assert.match(show.stdout, /"externalUserId":"user_123"/);
    assert.match(show.stdout, /^attempts:\n {2}#1 .* HTTP 200 /m);

    const sent = receiver.accepted.length;
    const re = await admin(env, 'webhooks', 'redeliver', '--tenant', tenantId, '--delivery', d.deliveryId);
    assert.equal(re.code, 0, re.stderr);
    assert.match(re.stdout, /queued again/);
    // The worker polls every 0.5 s: about a second, with room for a loaded machine.
    const queued = Date.now();
    await until('redelivery', () => receiver.accepted.length > sent, 5000);
    const ms = Date.now() - queued;
    assert.ok(ms < 2500, `redelivered after ${ms} ms`);
    const again = receiver.accepted.at(-1)!;
    assert.equal(again.event, 'verification.succeeded');
    assert.equal(again.data.externalUserId, 'user_123');

    const after = jsonOf(await admin(env, 'webhooks', 'show', '--tenant', tenantId, '--delivery', d.deliveryId, '--json')).delivery;
    assert.equal(after.status, 'delivered');
    assert.equal(JSON.parse(after.body).data.externalUserId, 'user_123');
    assert.deepEqual(after.attemptLog.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode]), [[1, 200], [2, 200]]);
  });

  test('mistakes answer one clear line on stderr and a non-zero exit', async () => {
    const runs = await Promise.all([
      admin(env, 'webhooks', 'redeliver', '--tenant', tenantId, '--delivery', 'whd_nope'),
      admin(env, 'webhooks', 'list', '--tenant', tenantId, '--status', 'weird'),
      admin(env, 'webhooks', 'list', '--tenant', 'tn_nope'),
      admin(env, 'webhooks', 'show', '--tenant', tenantId),
    ]);
    const expected = [/no webhook delivery whd_nope/, /status: expected one of pending, delivered, dead/, /no such tenant: tn_nope/, /--delivery is required/];
    runs.forEach((r, i) => {
      assert.notEqual(r.code, 0);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
      assert.equal(errors.length, 1, r.stderr);
      assert.match(errors[0]!, expected[i]!);
    });
  });
});
