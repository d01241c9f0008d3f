// The Python SDK (sdk/python/two_factor_service, standard library only) against a live server:
// starts the server and its peers (SMS gateway, SMTP server, stand-in browser) and runs
// `python3 -m unittest` over sdk/python/tests with the URL, keys and outbox passed by env.
// Every Python test must run: a skipped test fails this one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startPeers, WEBAUTHN_SETTINGS } from '../sdk/node/test/peers.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const pythonRoot = fileURLToPath(new URL('../sdk/python', import.meta.url));

let s: TestServer;
let peers: Awaited<ReturnType<typeof startPeers>>;

before(async () => {
  peers = await startPeers();
  s = await startTestServer(peers.env);
});
after(async () => {
  await s?.stop();
  await peers?.close();
});

/** Runs the command, resolving with its exit code and output (never rejecting on a non-zero exit). */
const run = (cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeout: number }) =>
  new Promise<{ code: number | null; signal: string | null; output: string }>((resolve) => {
    execFile(cmd, args, { ...opts, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, signal: e?.signal ?? null, output: `${stdout}\n${stderr}` });
    });
  });

test('python3 -m unittest: the seed Python snippets, errors, contract and offline tests all pass, none skipped', async () => {
  const tenant = await s.createTenant('sdk-python', { settings: WEBAUTHN_SETTINGS, webhookUrl: `${peers.outboxUrl}/webhook` });
  const mfa = await s.createTenant('sdk-python-mfa');
  const policy = await s.admin('POST', `/api/v1/admin/tenants/${mfa.tenantId}/policies`, {
    name: '결제 시 추가 인증',
    match: { purpose: 'payment' },
    requiredChannels: ['sms', 'totp'],
    withinSeconds: 300,
  });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));

  const r = await run('python3', ['-m', 'unittest', 'discover', '-v', '-s', 'tests', '-t', '.'], {
    cwd: pythonRoot,
    timeout: 90_000,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: 'C.UTF-8',
      PYTHONIOENCODING: 'utf-8',
      PYTHONDONTWRITEBYTECODE: '1',
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
      SECUREKEY_TEST_URL: s.url,
      SECUREKEY_TEST_API_KEY: tenant.apiKey,
      SECUREKEY_TEST_MFA_API_KEY: mfa.apiKey,
      SECUREKEY_TEST_OUTBOX_URL: peers.outboxUrl,
      SECUREKEY_TEST_WEBHOOK_SECRET: tenant.webhookSecret,
    },
  });
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /\nOK\s*$/m, r.output);
  assert.doesNotMatch(r.output, /skipped/, r.output);
  const ran = Number(/Ran (\d+) tests?/.exec(r.output)?.[1]);
  assert.ok(ran >= 25, `ran ${ran} tests\n${r.output}`);
});
