// Node strips the types of the TypeScript sources with a WebAssembly build of swc that each
// thread loads for itself (tens of MB resident). src/main.ts runs the server with node's module
// compile cache (src/compile-cache.ts), so a server started again strips nothing on any of its
// threads and loads no stripper; the sources still run as they are, with no build step.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { COMPILE_CACHE_DIR, compileCacheEnv } from '../src/compile-cache.ts';
import { CHILD_ADMIN_TOKEN, startChildServer } from './helpers/child-server.ts';

describe('the compile cache the server runs with', () => {
  test("is the project's own directory, unless the operator set NODE_COMPILE_CACHE or NODE_DISABLE_COMPILE_CACHE", () => {
    assert.deepEqual(compileCacheEnv({}), { NODE_COMPILE_CACHE: COMPILE_CACHE_DIR });
    assert.ok(COMPILE_CACHE_DIR.endsWith(join('node_modules', '.cache', 'securekey', 'compile')), COMPILE_CACHE_DIR);
    assert.deepEqual(compileCacheEnv({ NODE_COMPILE_CACHE: '/srv/cache' }), {});
    assert.deepEqual(compileCacheEnv({ NODE_DISABLE_COMPILE_CACHE: '1' }), {});
  });

  test('node src/main.ts puts it in the environment of the process it re-runs', { skip: process.platform === 'linux' ? undefined : 'reads /proc/PID/environ (Linux only)' }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'securekey-compile-cache-'));
    const server = await startChildServer({ SECUREKEY_DATA_DIR: dataDir });
    try {
      const environ = readFileSync(`/proc/${server.child.pid}/environ`, 'utf8').split('\0');
      assert.ok(environ.includes(`NODE_COMPILE_CACHE=${process.env.NODE_COMPILE_CACHE ?? COMPILE_CACHE_DIR}`), environ.filter((e) => e.startsWith('NODE_')).join(' '));
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** Starts the server on `dataDir` with node's compile cache in `cacheDir` and its trace on, makes
 * it append (so the SQLite writer's thread starts too), stops it; returns its trace. */
const runOnce = async (dataDir: string, cacheDir: string) => {
  const server = await startChildServer({ SECUREKEY_DATA_DIR: dataDir, SECUREKEY_EVENTSTORE: 'sqlite', NODE_COMPILE_CACHE: cacheDir, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
  try {
    const r = await fetch(`${server.url}/api/v1/admin/tenants`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-admin-token': CHILD_ADMIN_TOKEN }, body: JSON.stringify({ name: 'compile-cache' }) });
    assert.equal(r.status, 200, await r.text());
  } finally {
    await server.stop();
  }
  assert.equal(await server.exited, 0);
  return server.stderr();
};

test('a server started a second time strips no TypeScript on any of its threads: every module comes from the compile cache', async () => {
  const root = mkdtempSync(join(tmpdir(), 'securekey-compile-cache-'));
  try {
    const first = await runOnce(join(root, 'a'), join(root, 'cache'));
    assert.match(first, /saving transpilation cache for StrippedTypeScript/, 'the first start fills the cache');
    const second = await runOnce(join(root, 'b'), join(root, 'cache'));
    const stripped = second.split('\n').filter((l) => /no transpile cache for StrippedTypeScript/.test(l));
    assert.deepEqual(stripped, [], 'modules stripped again');
    for (const entry of ['src/main.ts', 'src/eventstore/sqlite/writer-worker.ts', 'projections/thread/worker.ts']) {
      assert.ok(second.includes(`retrieving transpile cache for StrippedTypeScript file://${join(process.cwd(), entry)}...success`), `${entry} from the cache`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
