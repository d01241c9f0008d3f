import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startChildServer, type ChildServer } from './helpers/child-server.ts';
import { startSmsGateway } from './helpers/sms-gateway.ts';
import { until } from './helpers/until.ts';
import { startNodeReceiver } from './fixtures/webhook-node-receiver.ts';

const ADMIN = 'multi-node-admin-token-123456';

describe('two server processes sharing one data directory', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-nodes-'));
  let a: ChildServer;
  let b: ChildServer;
  let sms: Awaited<ReturnType<typeof startSmsGateway>>;
  let apiKey: string;
  const post = async (node: ChildServer, path: string, body: unknown) => {
    const r = await fetch(node.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  };

  before(async () => {
    sms = await startSmsGateway();
    const env = {
      SECUREKEY_DATA_DIR: dataDir,
      SECUREKEY_ADMIN_TOKEN: ADMIN,
      SECUREKEY_SMS_PROVIDER: 'http',
      SECUREKEY_SMS_HTTP_URL: sms.url,
      SECUREKEY_RATE_LIMIT_GLOBAL: '100000',
      SECUREKEY_RATE_LIMIT_SEND: '100000',
      SECUREKEY_RATE_LIMIT_VERIFY: '100000',
    };
    a = await startChildServer({ ...env, SECUREKEY_NODE_ID: 'a' });
    b = await startChildServer({ ...env, SECUREKEY_NODE_ID: 'b' });
    const r = await fetch(`${a.url}/api/v1/admin/tenants`, { method: 'POST', headers: { 'x-admin-token': ADMIN, 'content-type': 'application/json' }, body: '{"name":"nodes"}' });
    apiKey = ((await r.json()) as { data: { apiKey: string } }).data.apiKey;
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await sms.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a key created through node A is accepted by node B within a second (B builds its own read models)', async () => {
    await until('node B to see the key', async () => {
      const r = await post(b, '/api/v1/otp/send', { phone: '01011112222', purpose: 'login' });
      if (r.status === 200) return true;
      assert.equal(r.status, 401);
      return false;
    }, 1000);
  });

  test('a key revoked through node A is refused by node A at once and by node B within a second', async () => {
    const admin = (node: ChildServer, method: string, path: string, body?: unknown) =>
      fetch(node.url + path, { method, headers: { 'x-admin-token': ADMIN, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const created = (await (await admin(a, 'POST', '/api/v1/admin/tenants', { name: 'revoked' })).json()) as { data: { tenantId: string; keyId: string; apiKey: string } };
    const { tenantId, keyId, apiKey: key } = created.data;
    let phone = 1033330000;
    const send = (node: ChildServer) =>
      fetch(node.url + '/api/v1/otp/send', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ phone: `0${phone++}`, purpose: 'login' }) }).then((r) => r.status);
    // Both nodes have used the key, so both hold it in memory.
    assert.equal(await send(a), 200);
    await until('node B to accept the key', async () => (await send(b)) === 200, 5000);
    assert.equal((await admin(a, 'DELETE', `/api/v1/admin/tenants/${tenantId}/keys/${keyId}`)).status, 200);
    assert.equal(await send(a), 401, 'the node that revoked refuses the key in its next call');
    await until('node B to refuse the revoked key', async () => (await send(b)) === 401, 1000);
  });

  test('webhooks: only one node delivers — each event arrives once although both nodes project it', async () => {
    const receiver = await startNodeReceiver({ secret: 'unset' });
    try {
      const r = await fetch(`${a.url}/api/v1/admin/tenants`, { method: 'POST', headers: { 'x-admin-token': ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'hooked', webhookUrl: receiver.url }) });
      const { apiKey: key, webhookSecret } = ((await r.json()) as { data: { apiKey: string; webhookSecret: string } }).data;
      receiver.setSecret(webhookSecret);
      const call = (node: ChildServer, path: string, body: unknown) =>
        fetch(node.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify(body) });
      // Node B knows the new key once it stops answering 401 (a TOTP check of nobody writes nothing).
      await until('node B to see the new key', async () => {
        const r = await call(b, '/api/v1/totp/verify', { userId: 'nobody', token: '123456' });
        await r.body?.cancel();
        return r.status === 404;
      });
      for (let i = 0; i < 6; i++) {
        const node = i % 2 ? a : b;
        const phone = `0109999000${i}`;
        assert.equal((await call(node, '/api/v1/otp/send', { phone, purpose: 'login', userId: `u${i}` })).status, 200);
        assert.equal((await call(node, '/api/v1/otp/verify', { phone, code: sms.lastCode(`+82${phone.slice(1)}`) })).status, 200);
      }
      await until('six deliveries', () => receiver.accepted.filter((x) => x.event === 'verification.succeeded').length >= 6, 10_000);
      // One deliverer: exactly one of the two processes ever held the delivery lease.
      const deliverers = [a, b].filter((n) => n.lines.some((l) => l.includes('"this node delivers webhooks"')));
      assert.equal(deliverers.length, 1, 'exactly one node delivers');
      const ids = receiver.accepted.map((x) => x.eventId);
      assert.equal(new Set(ids).size, ids.length, 'no event delivered twice');
      assert.deepEqual(receiver.accepted.filter((x) => x.event === 'verification.succeeded').map((x) => x.data.externalUserId).sort(), ['u0', 'u1', 'u2', 'u3', 'u4', 'u5']);
    } finally {
      await receiver.close();
    }
  });

  test('50 verifies with the right code, split across both processes: exactly one succeeds', async () => {
    const phone = '01033334444';
    assert.equal((await post(a, '/api/v1/otp/send', { phone, purpose: 'login' })).status, 200);
    const code = sms.lastCode('+821033334444');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => post(i % 2 ? a : b, '/api/v1/otp/verify', { phone, code })));
    const wins = results.filter((r) => r.status === 200 && r.body.data.verified === true);
    assert.equal(wins.length, 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of results) if (r !== wins[0]) assert.equal(r.body.code, 'OTP_NOT_FOUND');
  });

  test('50 uses of one recovery code, split across both processes: exactly one succeeds, and the set counts one code used on both', async () => {
    const userId = 'recovery-racer';
    const gen = await post(a, '/api/v1/recovery/generate', { userId });
    assert.equal(gen.status, 200, JSON.stringify(gen.body));
    const code = gen.body.data.codes[0];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => post(i % 2 ? a : b, '/api/v1/recovery/verify', { userId, code })));
    for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(results.filter((r) => r.body.data.verified === true).length, 1);
    for (const node of [a, b]) assert.equal((await post(node, '/api/v1/recovery/status', { userId })).body.data.remaining, 9);
  });

  test('50 wrong codes across both processes: the attempt count is exact and the code locks at the limit', async () => {
    const phone = '01055556666';
    assert.equal((await post(b, '/api/v1/otp/send', { phone, purpose: 'login' })).status, 200);
    const right = sms.lastCode('+821055556666');
    const wrong = right === '000000' ? '111111' : '000000';
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => post(i % 2 ? a : b, '/api/v1/otp/verify', { phone, code: wrong })));
    const remaining = results.filter((r) => r.status === 200).map((r) => r.body.data.attemptsRemaining).sort();
    const locked = results.filter((r) => r.status === 429 && r.body.code === 'TOO_MANY_ATTEMPTS');
    assert.deepEqual(remaining, [1, 2, 3, 4], JSON.stringify(results.map((r) => [r.status, r.body.code ?? r.body.data])));
    assert.equal(locked.length, 46);
    const after = await post(a, '/api/v1/otp/verify', { phone, code: right });
    assert.equal(after.status, 429);
  });
});
