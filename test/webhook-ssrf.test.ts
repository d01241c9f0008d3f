// Webhook targets cannot reach internal addresses (SSRF): refused when set, refused again at
// delivery (resolved then, every address checked, the connection pinned to the checked address),
// redirects never followed; an operator switch allows private targets.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { checkWebhookUrl, forbiddenAddress, resolveTarget, webhookUrlProblem, type Lookup } from '../src/webhooks/egress.ts';
import { postWebhook } from '../src/webhooks/post.ts';
import { createDeliveryProcessor, type DeliveryAttempt } from '../src/webhooks/kurrent/processor.ts';
import { createWebhookWorker } from '../src/webhooks/worker.ts';
import { createEnv, type Env, silentLog } from './fixtures/webhook-env.ts';
import { startNodeReceiver, type NodeReceiver } from './fixtures/webhook-node-receiver.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

const STRICT = { allowPrivate: false };
const OPEN = { allowPrivate: true };

describe('which addresses a webhook may reach (pure)', () => {
  test('loopback, link-local (cloud metadata), private, shared, unique-local, multicast, unspecified and documentation ranges are refused; public ones pass', () => {
    const refused = ['127.0.0.1', '127.255.0.9', '169.254.169.254', '10.0.0.1', '172.16.5.4', '192.168.1.1', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd12:3456::1', 'fc00::1', 'ff02::1', '2001:db8::1'];
    for (const ip of refused) assert.ok(forbiddenAddress(ip), ip);
    for (const ip of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '64:ff9b::8.8.8.8']) assert.equal(forbiddenAddress(ip), null, ip);
  });

  test('IPv4 carried in IPv6 (mapped, NAT64) is judged as the IPv4 address it carries', () => {
    assert.match(forbiddenAddress('::ffff:127.0.0.1')!, /loopback/);
    assert.match(forbiddenAddress('::ffff:7f00:1')!, /loopback/);
    assert.match(forbiddenAddress('::ffff:a9fe:a9fe')!, /link-local/);
    assert.match(forbiddenAddress('64:ff9b::a9fe:a9fe')!, /link-local/);
  });

  test('numeric spellings of 127.0.0.1 and localhost names are refused in the URL itself', () => {
    for (const url of ['http://0x7f000001/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://127.1/', 'http://[::ffff:127.0.0.1]/', 'http://[::1]:8080/x', 'http://localhost/', 'http://LOCALHOST./', 'http://api.localhost/', 'http://169.254.169.254/latest/meta-data/']) {
      assert.ok(webhookUrlProblem(url, STRICT), url);
      assert.equal(webhookUrlProblem(url, OPEN), null, `${url} with the operator switch`);
    }
    assert.match(webhookUrlProblem('ftp://example.com/', STRICT)!, /http and https/);
    assert.match(webhookUrlProblem('https://user:pw@example.com/', OPEN)!, /credentials/);
    assert.equal(webhookUrlProblem('https://hooks.example.com/securekey', STRICT), null);
  });

  test('a name is refused when ANY address it resolves to is forbidden (a DNS answer mixing public and private)', async () => {
    const answers: Record<string, string[]> = { 'mixed.test': ['93.184.216.34', '10.0.0.7'], 'public.test': ['93.184.216.34', '2606:4700::1'], 'v6.test': ['fd00::5'] };
    const lookup: Lookup = (host, cb) => cb(null, (answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
    const mixed = await resolveTarget('mixed.test', STRICT, lookup);
    assert.equal(mixed.ok, false);
    assert.match(!mixed.ok ? mixed.reason : '', /resolves to a private address/);
    assert.equal((await resolveTarget('public.test', STRICT, lookup)).ok, true);
    assert.equal((await resolveTarget('v6.test', STRICT, lookup)).ok, false);
    assert.equal((await resolveTarget('mixed.test', OPEN, lookup)).ok, true, 'allowed with the operator switch');
    assert.match((await checkWebhookUrl('https://mixed.test/hook', STRICT, { lookup }))!, /private/);
    assert.equal(await checkWebhookUrl('https://unresolvable.test/hook', STRICT, { lookup }), null, 'a name that does not resolve yet is accepted when set (delivery checks again)');
  });
});

describe('webhook URLs refused when set, over the admin API', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ SECUREKEY_WEBHOOK_ALLOW_PRIVATE: 'false' });
  });
  after(() => s.stop());

  test('creating a tenant or changing its webhookUrl to an internal address is 400 INVALID_ARGUMENT saying why; nothing is written', async () => {
    const t = await s.createTenant('ssrf');
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[::1]:8080/hook', 'http://0x7f000001/hook', `http://localhost:${s.port}/`, 'http://10.1.2.3/hook', 'http://[fd00::1]/hook', 'http://[::ffff:127.0.0.1]/']) {
      const head = s.head();
      const created = await s.admin('POST', '/api/v1/admin/tenants', { name: 'evil', webhookUrl: url });
      assert.equal(created.status, 400, url);
      assert.equal(created.body.code, 'INVALID_ARGUMENT');
      assert.match(created.body.error, /webhookUrl: refused: the host is .*address.*SECUREKEY_WEBHOOK_ALLOW_PRIVATE/);
      const changed = await s.admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}/settings`, { settings: { webhookUrl: url } });
      assert.equal(changed.status, 400, url);
      assert.match(changed.body.error, /refused/);
      assert.equal(s.head(), head, `${url}: nothing appended`);
    }
    const ok = await s.admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}/settings`, { settings: { webhookUrl: 'https://hooks.example.com/securekey' } });
    assert.equal(ok.status, 200, 'a public URL is accepted');
  });
});

describe('webhook targets checked again at delivery', () => {
  let env: Env;
  let receiver: NodeReceiver;
  before(async () => {
    env = await createEnv();
    receiver = await startNodeReceiver({ secret: 'unused' });
  });
  after(async () => {
    await receiver.close();
    await env.cleanup();
  });

  test('SQLite worker: a target that is loopback at delivery is refused, recorded and logged as refused, and the receiver gets nothing', async () => {
    // Accepted when set (the operator switch was on then, or the name pointed elsewhere).
    const t = await env.createTenant(receiver.url.replace('127.0.0.1', 'localhost'));
    await env.otpVerified(t.tenantId, 'user_1');
    const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
    const w = createWebhookWorker({
      egress: STRICT,
      db: env.db,
      keyring: env.keyring,
      openBody: env.personal.openJson,
      now: () => Date.now(),
      log: { info: () => {}, warn: (obj, msg) => warnings.push({ obj: obj as Record<string, unknown>, msg }) },
      timeoutMs: 1000,
      maxAttempts: 1,
      backoff: { baseMs: 10, maxMs: 10 },
      pollMs: 10,
    });
    w.start();
    try {
      const row = await until('the attempt is recorded', () => env.db.prepare('SELECT error FROM webhook_attempts a JOIN webhook_delivery_state s USING (delivery_id) WHERE s.tenant_id = ?').get(t.tenantId) as { error: string } | undefined);
      assert.match(row!.error, /^refused: the host is a loopback address/);
      assert.ok(warnings.some((x) => x.msg === 'webhook target refused' && x.obj.tenantId === t.tenantId));
      assert.equal(receiver.requests(), 0, 'no request reached the receiver');
    } finally {
      await w.stop();
    }
  });

  test('KurrentDB processor: the same refusal, through the same post.ts', async () => {
    const attempts: DeliveryAttempt[] = [];
    const proc = createDeliveryProcessor({
      egress: STRICT,
      keyring: env.keyring,
      open: env.personal.open,
      tenantOf: () => ({ url: `http://[::ffff:127.0.0.1]:${new URL(receiver.url).port}/`, secretsEnc: [env.keyring.encrypt('webhook-secret', 'whsec_x')] }),
      now: () => Date.now(),
      log: silentLog,
      timeoutMs: 1000,
      maxRetries: 0,
      backoff: { baseMs: 10, maxMs: 10 },
      messageTimeoutMs: 30_000,
      onAttempt: (a) => attempts.push(a),
    });
    const answered = new Promise<string>((resolve) =>
      proc.push({
        event: { id: randomUUID(), type: 'OtpVerified', streamName: 'otp-tn_x.sms.abc', revision: 1, position: 1, recordedAt: new Date(), metadata: { tenantId: 'tn_x' }, data: { otpId: 'o', channel: 'sms', purpose: 'login', userId: 'u', masked: 'm', country: 'KR', issuedAt: Date.now(), attempts: 0, attemptsRemaining: 5, verifiedAt: Date.now() } },
        retryCount: 0,
        reply: { ack: async () => resolve('ack'), nack: async (action) => resolve(action) },
      }),
    );
    assert.equal(await answered, 'park');
    assert.match(attempts[0]!.error!, /^refused: the host is a loopback address/);
    assert.equal(receiver.requests(), 0);
    await proc.stop();
  });
});

describe('the connection goes where the check said, and redirects are not followed', () => {
  const servers: http.Server[] = [];
  const listen = async (handler: http.RequestListener) => {
    const srv = http.createServer(handler);
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return (srv.address() as AddressInfo).port;
  };
  after(() => {
    for (const s of servers) s.close();
  });

  test('the host is resolved once, and the request is made to that address (no second lookup to rebind)', async () => {
    const hosts: string[] = [];
    const port = await listen((req, res) => {
      hosts.push(String(req.headers.host));
      res.end();
    });
    let lookups = 0;
    const lookup: Lookup = (_host, cb) => {
      lookups++;
      cb(null, [{ address: '127.0.0.1', family: 4 }]);
    };
    const r = await postWebhook({ url: `http://receiver.test:${port}/hook`, body: '{}', headers: {}, timeoutMs: 2000, signal: new AbortController().signal, egress: OPEN, lookup });
    assert.deepEqual(r, { status: 200 });
    assert.equal(lookups, 1);
    assert.deepEqual(hosts, [`receiver.test:${port}`], 'the Host header names the URL, the socket went to the checked address');
    const refused = await postWebhook({ url: `http://receiver.test:${port}/hook`, body: '{}', headers: {}, timeoutMs: 2000, signal: new AbortController().signal, egress: STRICT, lookup });
    assert.deepEqual(refused, { error: 'refused: the host resolves to a loopback address', refused: true });
    assert.equal(hosts.length, 1, 'nothing was sent when refused');
  });

  test('a 302 to an internal address is a failed attempt; the redirect is not followed', async () => {
    let internalHits = 0;
    const internal = await listen((_req, res) => {
      internalHits++;
      res.end();
    });
    const redirecting = await listen((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${internal}/latest/meta-data/` });
      res.end();
    });
    const r = await postWebhook({ url: `http://127.0.0.1:${redirecting}/`, body: '{}', headers: {}, timeoutMs: 2000, signal: new AbortController().signal, egress: OPEN });
    assert.deepEqual(r, { status: 302 });
    assert.equal(internalHits, 0);
  });
});
