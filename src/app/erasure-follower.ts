// Keeps a process's caches true to erasures made elsewhere (the admin CLI, another node): when a
// UserErased event reaches it, the user's new generation is recorded (user-keys.ts) and their data key
// destroyed (again: a no-op when the eraser shares this key store; after a key store restored from
// a backup older than the erasure, it destroys the key the backup brought back), and the user's stream
// snapshots deleted (src/stream-snapshots). A projection without a read
// model: the server runs it beside its read models; replay has nothing to rebuild for it.
import type { DatabaseSync } from 'node:sqlite';
import { userGenerations } from '../../projections/erasures/index.ts';
import { projection, type ProjectionStatus } from '../../projections/runtime.ts';
import { userHashOfStream } from '../domain/user/index.ts';
import { tenantOf } from '../eventstore/recorded.ts';
import type { Vault } from '../privacy/vault.ts';
import type { UserKeys } from './user-keys.ts';

export const createErasureFollower = (o: { users: UserKeys; vault: Pick<Vault, 'destroy'>; snapshots?: { forgetUser: (tenantId: string, userKey: string) => unknown } }) =>
  projection({
    name: 'erasure-follower',
    canHandle: ['UserErased'],
    init: () => {},
    evolve: (_db, e) => {
      const tenantId = tenantOf(e);
      if (!tenantId) return;
      o.users.erased(tenantId, userHashOfStream(e.streamName), e.data.generation);
      o.vault.destroy(tenantId, 'user', e.data.erasedUserKey);
      o.snapshots?.forgetUser(tenantId, e.data.erasedUserKey); // unreadable already (their key is gone): deleted too
    },
  });

/** After the read models' start-up: the user keys learn every erasure from the erasures read model,
 * when it holds at least every one the follower will not bring again (its checkpoint is at or
 * past the follower's, and it is not stopped at an error). Otherwise they keep reading user streams. */
export const learnErasures = (o: { users: UserKeys; status: Record<string, ProjectionStatus>; readDb: DatabaseSync }) => {
  const table = o.status['erasures'];
  const follower = o.status['erasure-follower'];
  if (!table || !follower || table.failure || table.checkpoint < follower.checkpoint) return false;
  o.users.knowAll(userGenerations(o.readDb));
  return true;
};
