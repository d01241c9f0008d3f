// The replay bench's seed (bench/load/replay.ts) writes its OTP cycles as the API writes them:
// each personal value sealed (the user id, the masked destination, the client IP), the user's
// stream key in clear, so that the read models rebuilt from it (the audit trail's partial index
// of clear user ids above all) do the work they do on a log the API wrote.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { PERSONAL_METADATA, personalSpecOf } from '../src/domain/personal.ts';
import { isSealed } from '../src/privacy/personal-data.ts';

test('the replay bench seeds OTP cycles with their personal values sealed and the user by stream key, as the API records them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'securekey-replay-seed-'));
  try {
    const env = { PATH: process.env.PATH ?? '', SECUREKEY_DATA_DIR: dir, SECUREKEY_MASTER_KEY: randomBytes(32).toString('base64'), SECUREKEY_EVENTSTORE: 'sqlite', SECUREKEY_DEV_MODE: 'false', LOG_LEVEL: 'warn' };
    const r = spawnSync(process.execPath, ['bench/load/replay.ts', 'seed', '--events', '8'], { env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const db = new DatabaseSync(join(dir, 'events.db'), { readOnly: true });
    try {
      const rows = db.prepare("SELECT type, data, metadata FROM events WHERE type LIKE 'Otp%' ORDER BY position").all() as { type: string; data: string; metadata: string }[];
      assert.deepEqual([...new Set(rows.map((e) => e.type))], ['OtpIssued', 'OtpDeliverySucceeded', 'OtpAttemptFailed', 'OtpVerified']);
      assert.equal(rows.length, 8);
      for (const e of rows) {
        const data = JSON.parse(e.data) as Record<string, unknown>;
        const metadata = JSON.parse(e.metadata) as Record<string, unknown>;
        const personal = [...personalSpecOf(e.type).fields.map((f) => data[f]), ...PERSONAL_METADATA.map((f) => metadata[f])].filter((v) => v !== undefined && v !== null);
        assert.ok(personal.length >= 3, `${e.type}: user id, masked destination, client IP`);
        for (const v of personal) assert.ok(isSealed(v), `${e.type}: ${String(v).slice(0, 20)} is sealed`);
        assert.match(String(data.userKey), /^[A-Za-z0-9_-]{20,}$/, `${e.type}: the user's stream key, in clear`);
      }
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
