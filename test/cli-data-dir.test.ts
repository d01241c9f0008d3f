// The admin CLI and the data directory: it says on stderr which one it uses, and it refuses one
// that holds no SecureKey data (the server runs elsewhere: keys made there would be refused with
// 401) unless the operator names it (--data-dir) or asks for a new one (--init).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chooseDataDir, holdsSecureKeyData } from '../src/cli/data-dir.ts';
import { jsonOf, runAdmin, type AdminRun } from './helpers/cli.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const cli = resolve('src/cli/main.ts');

/** `node src/cli/main.ts ...` from another working directory (where ./data is not the server's). */
const runIn = (cwd: string, env: Record<string, string | undefined>, ...args: string[]) =>
  new Promise<AdminRun>((done) =>
    execFile(process.execPath, [cli, ...args], { cwd, env: { ...process.env, SECUREKEY_DATA_DIR: undefined, ...env } }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

describe('the data directory the admin CLI uses', () => {
  const work = mkdtempSync(join(tmpdir(), 'securekey-cli-datadir-'));
  const serverDir = join(work, 'server-data');
  let s: TestServer;
  before(async () => {
    s = await startTestServer({}, { dataDir: serverDir });
  });
  after(async () => {
    await s?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test("run elsewhere with the default ./data: refused, nothing created, the message says how to point it at the server's", async () => {
    const r = await runIn(work, {}, 'tenant', 'create', '--name', 'acme', '--json');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const dir = join(work, 'data');
    assert.equal(
      r.stderr,
      `data directory: ${dir} (default ./data)\n` +
        `error: ${dir} (default ./data) holds no SecureKey data: no events, no master key. It is not your server's data directory.\n` +
        "Use the server's: the same SECUREKEY_DATA_DIR as the server, or --data-dir DIR.\n" +
        'To start a new data directory there on purpose, add --init.\n',
    );
    assert.equal(existsSync(dir), false, 'no directory created');
  });

  test('SECUREKEY_DATA_DIR naming an empty or missing directory is refused the same way; read-only commands too', async () => {
    const empty = mkdtempSync(join(work, 'empty-'));
    for (const args of [['tenant', 'list'], ['verify-chain']]) {
      const r = await runAdmin({ SECUREKEY_DATA_DIR: empty }, ...args);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /holds no SecureKey data/);
    }
    assert.deepEqual(readdirSync(empty), [], 'nothing written into it');
  });

  test("the server's directory (from SECUREKEY_DATA_DIR): used, and named on stderr; the key it prints works on the server", async () => {
    const r = await runAdmin({ SECUREKEY_DATA_DIR: serverDir, SECUREKEY_MASTER_KEY: s.config.masterKey.toString('base64') }, 'tenant', 'create', '--name', 'acme', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^data directory: ${serverDir} \\(SECUREKEY_DATA_DIR\\)$`, 'm'));
    const { apiKey } = jsonOf(r);
    const send = await s.call(apiKey, '/api/v1/webauthn/authenticate/options', {});
    assert.equal(send.status, 200, JSON.stringify(send.body));
  });

  test('--data-dir names the directory (also a new one, on purpose); --init allows a new one at the default place', async () => {
    const named = join(work, 'named-new');
    const r1 = await runIn(work, {}, 'tenant', 'create', '--name', 'first', '--data-dir', named, '--json');
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stderr, new RegExp(`^data directory: ${named} \\(--data-dir\\)$`, 'm'));
    assert.ok(holdsSecureKeyData(named));

    const r2 = await runIn(work, {}, 'tenant', 'create', '--name', 'first', '--init', '--json');
    assert.equal(r2.code, 0, r2.stderr);
    assert.ok(holdsSecureKeyData(join(work, 'data')));
    const r3 = await runIn(work, {}, 'tenant', 'list', '--json');
    assert.equal(r3.code, 0, 'once it holds data, no --init is needed');
    assert.equal(jsonOf(r3).tenants.length, 1);
  });

  test('chooseDataDir: --data-dir, then SECUREKEY_DATA_DIR, then ./data, each resolved', () => {
    assert.deepEqual(chooseDataDir('x', { SECUREKEY_DATA_DIR: 'y' }), { path: resolve('x'), source: '--data-dir' });
    assert.deepEqual(chooseDataDir(undefined, { SECUREKEY_DATA_DIR: 'y' }), { path: resolve('y'), source: 'SECUREKEY_DATA_DIR' });
    assert.deepEqual(chooseDataDir(undefined, {}), { path: resolve('data'), source: 'default ./data' });
  });
});
