// What the server writes is for its own user only: the data directory is 0700 and every database
// file (with its -wal and -shm) and the master key 0600, also when it starts on an older directory.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { privateDbFile } from '../src/fs/private.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startChildServer } from './helpers/child-server.ts';

const modeOf = (p: string) => statSync(p).mode & 0o777;

const assertPrivate = (dataDir: string) => {
  assert.equal(modeOf(dataDir).toString(8), '700', 'the data directory');
  const files = readdirSync(dataDir);
  for (const name of ['events.db', 'readmodels.db', 'webhooks.db', 'keys.db', 'snapshots.db', 'master.key']) assert.ok(files.includes(name), `${name} exists`);
  for (const name of files) assert.equal(modeOf(join(dataDir, name)).toString(8), '600', name);
};

test('a new data directory is 0700 and its files 0600, whatever the umask', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'securekey-perms-'));
  const dataDir = join(parent, 'data');
  try {
    const server = await startChildServer({ SECUREKEY_DATA_DIR: dataDir, SECUREKEY_MASTER_KEY: '' });
    await fetch(`${server.url}/api/v1/admin/tenants`, { method: 'POST', headers: { 'x-admin-token': 'child-admin-token-0123456789', 'content-type': 'application/json' }, body: '{"name":"a"}' });
    assertPrivate(dataDir);
    await server.stop();
    assertPrivate(dataDir);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('an existing directory at 0755 with files at 0644 is tightened at start', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'securekey-perms-'));
  const dataDir = join(parent, 'data');
  try {
    const first = await startChildServer({ SECUREKEY_DATA_DIR: dataDir, SECUREKEY_MASTER_KEY: '' });
    await first.stop();
    chmodSync(dataDir, 0o755);
    for (const name of readdirSync(dataDir)) chmodSync(join(dataDir, name), 0o644);
    writeFileSync(join(dataDir, 'events.db-wal'), '', { flag: 'a', mode: 0o644 });
    chmodSync(join(dataDir, 'events.db-wal'), 0o644);
    const second = await startChildServer({ SECUREKEY_DATA_DIR: dataDir, SECUREKEY_MASTER_KEY: '' });
    assertPrivate(dataDir);
    await second.stop();
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test("opening a database file the process already holds keeps SQLite's locks on it (a closed descriptor would drop them all)", { skip: existsSync('/proc/locks') ? false : 'needs /proc/locks (Linux) to see the locks' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'securekey-locks-'));
  const path = join(dir, 'events.db');
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);');
    db.prepare('SELECT count(*) FROM t').get(); // a WAL connection keeps its shared lock on the file
    const inode = statSync(path).ino;
    const held = () => readFileSync('/proc/locks', 'utf8').split('\n').some((l) => l.split(/\s+/).includes(String(process.pid)) && l.includes(`:${inode} `));
    assert.ok(held(), 'the connection holds a lock on the database file');
    privateDbFile(path); // as a second thread's connection to the same file starts
    assert.ok(held(), 'the lock is still held');
    assert.equal(statSync(path).mode & 0o777, 0o600);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
