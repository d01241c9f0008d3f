// Read model of erasures: each erased user's generation (src/app/user-keys.ts), by tenant and the
// keyed hash of the user's id (the user stream's key; never the id). The server reads it once at
// start-up and the erasure follower keeps that copy current, so that a user's stream key is found
// without reading their stream: a user who is not here was never erased (generation 0).
import type { DatabaseSync } from 'node:sqlite';
import { userHashOfStream } from '../../src/domain/user/index.ts';
import { tenantOf } from '../../src/eventstore/recorded.ts';
import { projection } from '../runtime.ts';
import { prepared } from '../sql.ts';

export const erasuresProjection = projection({
  name: 'erasures',
  canHandle: ['UserErased'],
  init: (db) =>
    db.exec(`CREATE TABLE IF NOT EXISTS user_generations (
      tenant_id TEXT NOT NULL, user_hash TEXT NOT NULL, generation INTEGER NOT NULL,
      PRIMARY KEY (tenant_id, user_hash));`),
  reset: (db) => db.exec('DELETE FROM user_generations'),
  evolve: (db, e) => {
    const tenantId = tenantOf(e);
    if (!tenantId) return;
    prepared(db, 'INSERT INTO user_generations VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET generation = max(generation, excluded.generation)').run(tenantId, userHashOfStream(e.streamName), e.data.generation);
  },
});

export type UserGeneration = { tenantId: string; userHash: string; generation: number };

/** Every erased user and their generation, one row at a time. */
export function* userGenerations(db: DatabaseSync): Generator<UserGeneration> {
  for (const r of prepared(db, 'SELECT tenant_id, user_hash, generation FROM user_generations').iterate() as Iterable<{ tenant_id: string; user_hash: string; generation: number }>)
    yield { tenantId: r.tenant_id, userHash: r.user_hash, generation: r.generation };
}
