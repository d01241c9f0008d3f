// The Node SDK as a customer gets it: `npm pack` in a copy of sdk/node (prepack compiles it with
// tsc), the tarball installed into a new app outside the repository, and the seed's Node snippets
// run there on the machine's own Node (20 here; no type stripping, no repository files) against
// a live server. Also: CommonJS require, the declarations alone under tsc, no Node built-in in
// the browser entry, zero runtime dependencies.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPeers, WEBAUTHN_SETTINGS } from '../sdk/node/test/peers.ts';
import { freePort } from './helpers/dockerfile.ts';
import { installTarball, packNodeSdk, runCommand } from './helpers/node-sdk.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { systemNode } from './helpers/system-node.ts';

const repo = resolve('.');
const node = systemNode();
const work = mkdtempSync(join(tmpdir(), 'securekey-sdk-node-'));
const app = join(work, 'app');

const run = runCommand;

let tarball = '';
let s: TestServer;
let peers: Awaited<ReturnType<typeof startPeers>>;

before(async () => {
  tarball = await packNodeSdk(work);

  mkdirSync(app);
  cpSync('test/fixtures/sdk-node-app', app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'customer-app', private: true, type: 'module' }));
  await installTarball(app, tarball);

  peers = await startPeers();
  s = await startTestServer(peers.env);
});
after(async () => {
  await s?.stop();
  await peers?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  test('holds the compiled JavaScript, declarations, README and package.json only; no dependencies', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.ok(files.includes('package/dist/esm/index.js') && files.includes('package/dist/esm/index.d.ts'), files.join('\n'));
    assert.ok(files.includes('package/dist/cjs/index.js') && files.includes('package/dist/cjs/index.d.ts'), files.join('\n'));
    assert.deepEqual(files.filter((f) => !/^package\/(dist\/(esm|cjs)\/[\w-]+\.(js|d\.ts)|dist\/cjs\/package\.json|package\.json|README\.md)$/.test(f)), []);
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/@secondkey/node/package.json'), 'utf8'));
    assert.equal(pkg.name, '@secondkey/node');
    assert.equal(pkg.dependencies, undefined);
    assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((d) => !d.startsWith('.')), ['@secondkey'], 'installing it installs nothing else');
  });

  test('the browser entry imports no Node built-in (fetch only); the Node entry adds the webhook helpers', () => {
    const dist = join(app, 'node_modules/@secondkey/node/dist/esm');
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of readFileSync(join(dist, file), 'utf8').matchAll(/(?:from|import)\s*['"]([^'"]+)['"]/g)) {
        assert.ok(spec!.startsWith('./'), `${file} imports ${spec}`);
        visit(spec!.slice(2));
      }
    };
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/@secondkey/node/package.json'), 'utf8'));
    visit(pkg.exports['.'].browser.default.replace('./dist/esm/', ''));
    assert.ok(seen.has('client.js') && !seen.has('webhook.js'), [...seen].join(', '));
  });

  test('its declarations stand alone: a TypeScript app type-checks against them, and a misspelt field fails', async () => {
    await run(join(repo, 'node_modules/.bin/tsc'), ['-p', '.'], { cwd: app });
  });
});

describe("the seed's Node snippets in a customer's app, on the machine's own Node", { skip: node ? undefined : 'no node outside node_modules on PATH' }, () => {
  const env = (extra: Record<string, string>) => ({ PATH: process.env.PATH, HOME: process.env.HOME, NO_PROXY: '127.0.0.1', ...extra });

  test(`SMS, TOTP, email, passkey and push flows verify; errors carry the server code, or the URL and cause (${node?.version})`, async () => {
    const tenant = await s.createTenant('sdk-node-package', { settings: WEBAUTHN_SETTINGS });
    const closed = `http://127.0.0.1:${await freePort()}`;
    const out = await run(node!.path, ['seed.mjs'], { cwd: app, env: env({ SECUREKEY_URL: s.url, SECUREKEY_API_KEY: tenant.apiKey, OUTBOX_URL: peers.outboxUrl, CLOSED_URL: closed }) });
    assert.deepEqual(out.trim().split('\n'), [
      'sms +82 10-****-5678 true',
      'totp true true true',
      'email u***@example.com true',
      'webauthn true true',
      'push true',
      'error true UNAUTHORIZED 401',
      `network NETWORK_ERROR could not reach SecureKey at ${closed}/api/v1/otp/send: connect ECONNREFUSED ${closed.replace('http://', '')}`,
      'webhook false',
    ]);
  });

  test('CommonJS: require() gives the same client', async () => {
    const tenant = await s.createTenant('sdk-node-cjs', { settings: WEBAUTHN_SETTINGS });
    const out = await run(node!.path, ['require.cjs'], { cwd: app, env: env({ SECUREKEY_URL: s.url, SECUREKEY_API_KEY: tenant.apiKey }) });
    assert.equal(out.trim(), 'cjs string function function');
  });
});
