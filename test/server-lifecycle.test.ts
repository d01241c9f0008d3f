import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { CHILD_ADMIN_TOKEN, descendantsOf, isAlive, logsOf, messagesOf, startChildServer, type ChildServer } from './helpers/child-server.ts';
import { freePort, readDockerfile, runFor } from './helpers/dockerfile.ts';
import { until } from './helpers/until.ts';

/** A call the server has accepted (it answered 100-continue to the headers) whose body is not sent
 * yet: an admin call, as a call without credentials is refused before its body is read. */
const callInFlight = async (port: number) => {
  const body = JSON.stringify({ name: 'created-while-stopping' });
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/admin/tenants', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue', 'x-admin-token': CHILD_ADMIN_TOKEN } });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    req.once('continue', resolve);
    req.once('error', reject);
    req.flushHeaders();
  });
  return {
    /** Sends the body and resolves with the complete answer. */
    finish: () => (req.end(body), response),
  };
};

/** Whether a new TCP connection to the port is accepted (a fresh one each time: no keep-alive pool). */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** SIGTERM to `pid` while a call is in flight: the call is answered in full, new connections are refused, the server logs it drained. */
const assertDrainsOnSigterm = async (server: ChildServer, pid: number) => {
  const call = await callInFlight(server.port);
  process.kill(pid, 'SIGTERM');
  await until('the server refuses new connections', async () => !(await accepts(server.port)), 10_000);
  const res = await call.finish();
  assert.equal(res.status, 200, res.body); // a complete answer in the envelope
  assert.equal(JSON.parse(res.body).success, true);
  await until('the server logs that it stopped', () => messagesOf(server.lines).includes('stopped'), 10_000);
  const draining = logsOf(server.lines).find((j) => j.msg === 'shutting down: draining');
  assert.equal(draining?.inFlight, 1);
};

test('SIGTERM: stops accepting, finishes the call in flight, closes the store, exits 0', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-sigterm-'));
  try {
    const server = await startChildServer({ SECUREKEY_DATA_DIR: dataDir, SECUREKEY_SHUTDOWN_GRACE_MS: '5000' });
    await assertDrainsOnSigterm(server, server.child.pid!);
    assert.equal(await server.exited, 0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('npm start passes SIGTERM to the server: it drains and exits, npm exits 0, no node process is left behind', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-npm-start-'));
  let processes: number[] = [];
  try {
    const server = await startChildServer({ SECUREKEY_DATA_DIR: dataDir, SECUREKEY_SHUTDOWN_GRACE_MS: '5000' }, ['npm', 'start']);
    const npmPid = server.child.pid!;
    processes = descendantsOf(npmPid);
    const commands = processes.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean));
    // npm runs the server itself (exec), not a shell that would die alone and leave node behind:
    // one process, node on src/main.ts (which re-ran itself with the heap flags, src/heap-flags.ts).
    assert.equal(commands.length, 1, JSON.stringify(commands));
    assert.equal(basename(commands[0]![0]!), 'node', JSON.stringify(commands));
    assert.ok(commands[0]!.at(-1)!.endsWith('src/main.ts'), JSON.stringify(commands));
    await assertDrainsOnSigterm(server, npmPid); // the signal goes to npm only, as `kill -TERM <npm pid>` sends it
    assert.equal(await server.exited, 0);
    await until('every process npm started is gone', () => processes.every((pid) => !isAlive(pid)), 10_000);
  } finally {
    for (const pid of processes.filter(isAlive)) process.kill(pid, 'SIGKILL'); // never leave an orphan behind, even when failing
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("the container image's start command (Dockerfile CMD, exec form) answers its HEALTHCHECK and drains on SIGTERM", async () => {
  const image = readDockerfile();
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-image-'));
  try {
    // The image's environment, with the data directory and port of this test.
    const port = String(await freePort());
    const server = await startChildServer({ ...image.env, SECUREKEY_DATA_DIR: dataDir, PORT: port, HOST: '127.0.0.1' }, image.cmd);
    const health = () => runFor(image.healthcheck, { ...process.env, ...image.env, PORT: port });
    assert.equal(await health(), 0, 'HEALTHCHECK passes while the server runs');
    await assertDrainsOnSigterm(server, server.child.pid!);
    assert.equal(await server.exited, 0);
    assert.notEqual(await health(), 0, 'HEALTHCHECK fails once it stopped');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a bad configuration stops start-up with a clear message and exit code 2', async () => {
  const child = spawn(process.execPath, ['src/main.ts'], { env: { ...process.env, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 2);
  assert.match(err, /PORT must be an integer/);
});
