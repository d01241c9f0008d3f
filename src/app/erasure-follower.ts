// Keeps a process's caches true to erasures made elsewhere (the admin CLI, another node): when a
// UserErased event reaches it, the user's cached generation is dropped and their data key
// destroyed (again: a no-op when the eraser shares this key store; after a key store restored from
// a backup older than the erasure, it destroys the key the backup brought back). A projection without a read
// model: the server runs it beside its read models; replay has nothing to rebuild for it.
import { projection } from '../../projections/runtime.ts';
import { tenantOf } from '../eventstore/recorded.ts';
import type { Vault } from '../privacy/vault.ts';
import type { UserKeys } from './user-keys.ts';

export const createErasureFollower = (o: { users: UserKeys; vault: Pick<Vault, 'destroy'> }) =>
  projection({
    name: 'erasure-follower',
    canHandle: ['UserErased'],
    init: () => {},
    evolve: (_db, e) => {
      const tenantId = tenantOf(e);
      if (!tenantId) return;
      o.users.forget(tenantId, e.streamName.slice(e.streamName.lastIndexOf('.') + 1));
      o.vault.destroy(tenantId, 'user', e.data.erasedUserKey);
    },
  });
