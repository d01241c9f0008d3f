// Replay speed: rebuild every read model of a data directory from its event log into a fresh
// database (what `npm run admin -- replay` does), and report events/s.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyring } from '../src/crypto/keyring.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { replay } from '../src/app/replay.ts';
import { nodeProjections } from '../projections/index.ts';
import { openReadModelDb } from '../projections/sql.ts';

export const benchReplay = async (dataDir: string, masterKey: Buffer) => {
  const store = createSqliteEventStore({ path: join(dataDir, 'events.db') });
  const out = mkdtempSync(join(tmpdir(), 'securekey-replay-'));
  const db = openReadModelDb(join(out, 'rebuilt.db'));
  try {
    const r = await replay({ store, db, projections: nodeProjections(createKeyring(masterKey)) });
    return { events: r.events, seconds: r.durationMs / 1000, eventsPerSecond: Math.round(r.events / (r.durationMs / 1000)) };
  } finally {
    db.close();
    await store.close();
    rmSync(out, { recursive: true, force: true });
  }
};
