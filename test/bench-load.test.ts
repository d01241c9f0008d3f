// The load benchmark keeps working as the code under it changes (its seeder appends TOTP
// enrollments the way the TOTP decider decides them): one short run, numbers not checked.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Report } from '../bench/load/report.ts';

const TOTP_USERS = 500;

/** Runs the load benchmark to its end; its stdout and stderr, for the assertions' messages. */
const runBench = async (args: string[]): Promise<string> => {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  await new Promise((resolve) => child.once('exit', resolve));
  return output;
};

test('bench:load seeds TOTP users, drives gRPC verifies and the raw HTTP baseline, and reports each', async () => {
  const out = mkdtempSync(join(tmpdir(), 'securekey-bench-load-'));
  try {
    const args = ['bench/load/main.ts', '--duration', '1', '--warmup', '0', '--connections', '4', '--scenarios', 'raw,grpc-totp-verify', '--totp-users', String(TOTP_USERS), '--out', out];
    const output = await runBench(args);
    assert.ok(existsSync(join(out, 'load-latest.json')), `no report written:\n${output}`);
    const report = JSON.parse(readFileSync(join(out, 'load-latest.json'), 'utf8')) as Report;
    assert.deepEqual(report.results.map((s) => s.name), ['raw', 'grpc-totp-verify']);
    for (const s of report.results) {
      assert.ok(s.requests > 0, `${s.name} sent nothing`);
      // Each seeded user verifies once (a step is single-use): past that, failures are expected.
      const canSucceed = s.name === 'raw' ? s.requests : Math.min(s.requests, TOTP_USERS);
      assert.ok(s.requests - s.errors >= canSucceed, `${s.name}: ${s.errors} errors of ${s.requests} (${JSON.stringify(s.statuses)} ${s.sample})\n${output}`);
    }
    assert.match(output, /\| scenario +\| +req\/s \|/);
    // The server's CPU by thread: its two named threads are found (proc.ts threadCpuSecondsOf).
    const byThread = report.results.find((s) => s.name === 'grpc-totp-verify')!.threadCpuMsPerRequest!;
    assert.deepEqual(['main', 'writer', 'read models'].filter((t) => !(byThread[t]! >= 0)), [], JSON.stringify(byThread));
    assert.ok(byThread.main! > 0, JSON.stringify(byThread));
    assert.match(output, /\| CPU ms\/req by thread +\| +main \| writer \| read models \|/);
    assert.match(readFileSync(join(out, 'load-latest.svg'), 'utf8'), /^<svg [^>]*>/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('bench:load totp-verify-long seeds users with long histories, primes them, restarts the server and verifies each user once', async () => {
  const out = mkdtempSync(join(tmpdir(), 'securekey-bench-load-'));
  const users = 30;
  try {
    const args = ['bench/load/main.ts', '--duration', '1', '--warmup', '0', '--connections', '4', '--scenarios', 'totp-verify-long', '--long-users', String(users), '--long-history', '150', '--out', out];
    const output = await runBench(args);
    assert.ok(existsSync(join(out, 'load-latest.json')), `no report written:\n${output}`);
    assert.match(output, /with 150 sign-ins each/);
    assert.match(output, /restarting the server/);
    const [row] = (JSON.parse(readFileSync(join(out, 'load-latest.json'), 'utf8')) as Report).results;
    // Every user once (no warmup): all verified, none a replay.
    assert.equal(row?.requests, users, output);
    assert.equal(row?.errors, 0, `${JSON.stringify(row?.statuses)} ${row?.sample}\n${output}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
