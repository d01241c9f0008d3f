// The server runs with the V8 heap settings of src/heap-flags.ts however it is started: src/main.ts
// re-runs its own process with them (same pid) unless the operator set their own.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CLI_HEAP_FLAGS, HEAP_FLAGS, missingHeapFlags } from '../src/heap-flags.ts';
import { startChildServer } from './helpers/child-server.ts';

describe('which heap flags are missing', () => {
  test('all of them on a bare command line', () => {
    assert.deepEqual(missingHeapFlags([], ''), [...HEAP_FLAGS]);
    assert.deepEqual(missingHeapFlags(['--cpu-prof', '--import', './x.mjs'], undefined), [...HEAP_FLAGS]);
  });

  test('none that node already has, on its command line or in NODE_OPTIONS, in either spelling', () => {
    assert.deepEqual(missingHeapFlags([...HEAP_FLAGS]), []);
    assert.deepEqual(missingHeapFlags(['--max_semi_space_size=32']), ['--heap-growing-percent=25']);
    assert.deepEqual(missingHeapFlags([], '--trace-gc  --max-semi-space-size=0'), ['--heap-growing-percent=25']);
    assert.deepEqual(missingHeapFlags(['--max-semi-space-size', '8', '--heap_growing_percent=50']), []);
  });

  test('the admin CLI asks for the small young generation alone, unless node has one', () => {
    assert.deepEqual(missingHeapFlags([], '', CLI_HEAP_FLAGS), ['--max-semi-space-size=16']);
    assert.deepEqual(missingHeapFlags([], '--max_semi_space_size=8', CLI_HEAP_FLAGS), []);
  });
});

/** The command line of a running process (Linux). */
const commandLineOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

describe('node src/main.ts', { skip: process.platform === 'linux' ? undefined : 'reads /proc/PID/cmdline (Linux only)' }, () => {
  test('runs the server in the same process with the heap flags added to its command line', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'securekey-heap-'));
    const server = await startChildServer({ SECUREKEY_DATA_DIR: dataDir, NODE_OPTIONS: '' });
    try {
      const argv = commandLineOf(server.child.pid!);
      for (const flag of HEAP_FLAGS) assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
      assert.ok(argv.at(-1)!.endsWith('src/main.ts'), argv.join(' '));
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("keeps the operator's own values", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'securekey-heap-'));
    const server = await startChildServer({ SECUREKEY_DATA_DIR: dataDir, NODE_OPTIONS: '--max-semi-space-size=32' });
    try {
      const argv = commandLineOf(server.child.pid!);
      assert.ok(!argv.some((a) => a.startsWith('--max-semi-space-size')), `NODE_OPTIONS has it: ${argv.join(' ')}`);
      assert.ok(argv.includes('--heap-growing-percent=25'), argv.join(' '));
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
