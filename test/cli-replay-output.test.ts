// `replay --out`: the file a replay makes is its own, and one that does not complete is removed —
// when a projection fails, when the log cannot be read, on SIGINT or SIGTERM — while a file that
// was there before the run is never opened, changed or removed. The CLI runs as an operator runs
// it (node src/cli/main.ts, its own process), on a real log.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { createTenantService } from '../src/app/tenants.ts';
import { loadConfig } from '../src/config.ts';
import { chainEvents } from '../src/eventstore/chain.ts';
import { openStore } from '../src/eventstore/open.ts';
import { openPrivacy } from '../src/privacy/open.ts';

/** Enough events that a replay takes a good while after it creates its file (tens of thousands of
 * settings changes of one tenant, appended in batches through the store, chained). */
const EVENTS = 40_000;

type Run = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

describe('replay --out: a replay that does not complete leaves no file behind', () => {
  const root = mkdtempSync(join(tmpdir(), 'securekey-replay-out-'));
  const dataDir = join(root, 'data');
  const masterKey = randomBytes(32).toString('base64');
  const envOf = (dir: string) => ({ ...process.env, SECUREKEY_DATA_DIR: dir, SECUREKEY_MASTER_KEY: masterKey });

  before(async () => {
    mkdirSync(dataDir);
    const config = loadConfig({ SECUREKEY_DATA_DIR: dataDir, SECUREKEY_MASTER_KEY: masterKey });
    const store = await openStore(config);
    const privacy = await openPrivacy(config, store, Date.now);
    try {
      const tenants = createTenantService({ store, keyring: privacy.keyring, now: Date.now, webhookTargetProblem: async () => null });
      const { tenantId } = await tenants.create({ name: 'replayed' });
      const stream = `tenant-${tenantId}`;
      const head = await store.readStream(stream);
      let prevHash = String(head.at(-1)!.metadata.hash);
      for (let revision = head.length; revision < EVENTS; revision += 2000) {
        const batch = Array.from({ length: Math.min(2000, EVENTS - revision) }, (_, i) => ({
          id: crypto.randomUUID(),
          type: 'TenantSettingsChanged',
          data: { tenantId, settings: { otpLength: 6 + ((revision + i) % 3) }, at: Date.now() },
          metadata: { actor: 'test' },
        }));
        const chained = chainEvents(stream, revision, prevHash, batch);
        await store.appendToStream(stream, chained, { expectedRevision: revision - 1 });
        prevHash = String(chained.at(-1)!.metadata!.hash);
      }
    } finally {
      privacy.close();
      await store.close();
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** `node src/cli/main.ts replay ...` on `dir`; `onStart` gets the child once it runs. */
  const replay = (dir: string, args: string[], onStart: (child: ReturnType<typeof spawn>) => void = () => {}) =>
    new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, ['src/cli/main.ts', 'replay', ...args], { env: envOf(dir), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c));
      child.stderr.on('data', (c: Buffer) => (stderr += c));
      child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
      onStart(child);
    });
  /** A copy of the seeded data directory, for a run that edits its log. */
  const copy = (name: string) => {
    const dir = join(root, name);
    cpSync(dataDir, dir, { recursive: true });
    return dir;
  };
  const editLastEvent = (dir: string, data: string) => {
    const db = new DatabaseSync(join(dir, 'events.db'));
    db.prepare('UPDATE events SET data = ? WHERE position = (SELECT max(position) FROM events)').run(data);
    db.close();
  };
  /** The files of `dir` that start with the output's name (the database and its -wal, -shm, -journal). */
  const leftovers = (out: string) => readdirSync(dirname(out)).filter((f) => f.startsWith(basename(out)));

  test('the replay completes: exit 0, the file is there', async () => {
    const out = join(root, 'complete.db');
    const r = await replay(dataDir, ['--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`rebuilt ${EVENTS} events .* into ${out}`));
    assert.ok(existsSync(out));
  });

  test('a projection that fails on an event (an edited log) makes the replay exit 1, and the incomplete file is removed', async () => {
    const dir = copy('edited');
    editLastEvent(dir, 'null');
    const out = join(dir, 'rebuilt.db');
    const r = await replay(dir, ['--out', out]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^error: projection\(s\) .*tenants.* failed$/m);
    assert.match(r.stdout, new RegExp(`\\(incomplete: ${out} removed\\)`));
    assert.deepEqual(leftovers(out), []);
  });

  test('an event that cannot be read ends the replay (it used to wait for it forever): exit 1, one error line, the file removed', async () => {
    const dir = copy('unreadable');
    editLastEvent(dir, '{not json');
    const out = join(dir, 'rebuilt.db');
    const r = await replay(dir, ['--out', out]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`^error: the replay stopped: .*JSON.*; removed the partial ${out}$`, 'm'));
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.deepEqual(leftovers(out), []);
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    test(`${signal} in the middle of a replay removes the partial file; the exit status is ${code}`, async () => {
      const out = join(root, `interrupted-${signal}.db`);
      let sent = false;
      const r = await replay(dataDir, ['--out', out], (child) => {
        // The moment the file appears the replay has only begun: tens of thousands of events to go.
        const watcher = watch(root, (_event, name) => {
          if (name !== basename(out) || sent) return;
          sent = true;
          watcher.close();
          child.kill(signal);
        });
        child.once('exit', () => watcher.close());
      });
      assert.ok(sent, 'the file appeared');
      assert.equal(r.code, code, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${signal}: replay interrupted; removed the partial ${out}`));
      assert.deepEqual(leftovers(out), []);
    });
  }

  test('--out naming a file that exists is refused and the file is untouched; so is a leftover -wal beside it, and a missing directory', async () => {
    const existing = join(root, 'mine.db');
    writeFileSync(existing, 'not a replay: my own file\n');
    const r = await replay(dataDir, ['--out', existing]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: --out: .*mine\.db already exists; replay writes a fresh database file$/m);
    assert.equal(readFileSync(existing, 'utf8'), 'not a replay: my own file\n', 'the same bytes');

    const beside = join(root, 'fresh.db');
    writeFileSync(`${beside}-wal`, 'a stale write-ahead log');
    const wal = await replay(dataDir, ['--out', beside]);
    assert.equal(wal.code, 1);
    assert.match(wal.stderr, /^error: --out: .*fresh\.db-wal exists/m);
    assert.equal(existsSync(beside), false);
    assert.equal(readFileSync(`${beside}-wal`, 'utf8'), 'a stale write-ahead log');

    const nowhere = await replay(dataDir, ['--out', join(root, 'no-such-dir', 'x.db')]);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stderr, /^error: --out: cannot create .*x\.db \(ENOENT\): its directory must exist and be writable$/m);
  });
});
