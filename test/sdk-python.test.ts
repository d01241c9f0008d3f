// The Python SDK as a customer installs it: a wheel of sdk/python (distribution
// securekey-two-factor, import name two_factor_service) built with the standard setuptools
// backend, installed into a fresh venv outside the repository; then its test suite (the seed's
// Python snippets, live errors, the proto contract, offline retries) runs there with that venv's
// python against a live server and its peers (SMS gateway, SMTP server, stand-in browser).
// Every Python test must run: a skipped test fails this one.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startPeers, WEBAUTHN_SETTINGS } from '../sdk/node/test/peers.ts';
import { installPythonSdk, wheelPython } from './helpers/python-sdk.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const found = wheelPython();
const work = mkdtempSync(join(tmpdir(), 'securekey-sdk-python-'));

let s: TestServer;
let peers: Awaited<ReturnType<typeof startPeers>>;

before(async () => {
  peers = await startPeers();
  s = await startTestServer(peers.env);
});
after(async () => {
  await s?.stop();
  await peers?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Runs the command, resolving with its exit code and output (never rejecting on a non-zero exit). */
const run = (cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeout: number }) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    execFile(cmd, args, { ...opts, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, output: `${stdout}\n${stderr}` });
    });
  });

test('the wheel installed in a fresh venv: the seed Python snippets, errors, contract and offline tests all pass, none skipped', { skip: 'reason' in found ? found.reason : undefined }, async () => {
  const { python } = found as { python: string };
  const { wheel, venvPython } = await installPythonSdk(python, work);
  assert.match(wheel, /^securekey_two_factor-\d+\.\d+\.\d+-py3-none-any\.whl$/);
  // The tests, and nothing else of the repository, next to the venv: the import comes from the wheel.
  cpSync('sdk/python/tests', join(work, 'tests'), { recursive: true, filter: (p) => !p.endsWith('__pycache__') });
  const imported = execFileSync(venvPython, ['-c', 'import two_factor_service as t; print(t.__file__)'], { cwd: work, encoding: 'utf8' }).trim();
  assert.ok(imported.startsWith(join(work, 'venv')), `imported from ${imported}`);

  const tenant = await s.createTenant('sdk-python', { settings: WEBAUTHN_SETTINGS, webhookUrl: `${peers.outboxUrl}/webhook` });
  const mfa = await s.createTenant('sdk-python-mfa');
  const policy = await s.admin('POST', `/api/v1/admin/tenants/${mfa.tenantId}/policies`, {
    name: '결제 시 추가 인증',
    match: { purpose: 'payment' },
    requiredChannels: ['sms', 'totp'],
    withinSeconds: 300,
  });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));

  const r = await run(venvPython, ['-m', 'unittest', 'discover', '-v', '-s', 'tests', '-t', '.'], {
    cwd: work,
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
