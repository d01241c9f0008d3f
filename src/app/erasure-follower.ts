// Keeps a process's caches true to erasures made elsewhere (the admin CLI, another node): when a
// UserErased event reaches it, the user's cached generation and data key are dropped, so the next
// call reads them again (the new stream key; the destroyed key, gone). A projection without a read
// model: the server runs it beside its read models; replay has nothing to rebuild for it.
import { projection } from '../../projections/runtime.ts';
import { tenantOf } from '../eventstore/recorded.ts';
import type { Vault } from '../privacy/vault.ts';
import type { UserKeys } from './user-keys.ts';

export const createErasureFollower = (o: { users: UserKeys; vault: Pick<Vault, 'forgetOwner'> }) =>
  projection({
    name: 'erasure-follower',
    canHandle: ['UserErased'],
    init: () => {},
    evolve: (_db, e) => {
      const tenantId = tenantOf(e);
      if (!tenantId) return;
      o.users.forget(tenantId, e.streamName.slice(e.streamName.lastIndexOf('.') + 1));
      o.vault.forgetOwner(tenantId, 'user', e.data.erasedUserKey);
    },
  });
