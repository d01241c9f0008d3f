// UserService: proto ↔ src/app/users.ts. Erasure and export name the read models they read, so
// an erasure waits until the audit trail names every code of the user, and answers once the
// user's rows are gone.
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import { callerMetadata } from '../../app/caller.ts';
import type { ReadYourWrites } from '../../app/read-models.ts';
import type { UsersService } from '../../app/users.ts';
import type { UserService } from '../../gen/securekey/v1/users_pb.js';
import { callerOf, structOf } from './common.ts';

const ts = (iso: string) => timestampFromMs(Date.parse(iso));

export const createUserImpl = (deps: { users: UsersService; readModels: ReadYourWrites }): ServiceImpl<typeof UserService> => ({
  eraseUser: async (req, ctx) => {
    const caller = callerOf(ctx);
    const r = await deps.readModels.command(['audit', 'mfa-verifications'], () => deps.users.erase({ tenantId: caller.tenantId, metadata: callerMetadata(caller) }, req.userId));
    return { erased: true, erasureId: r.erasureId, cancelledCodes: r.cancelledCodes, cancelledPushRequests: r.cancelledPushRequests };
  },
  exportUser: async (req, ctx) => {
    const caller = callerOf(ctx);
    await deps.readModels.current(['audit']);
    const x = await deps.users.export({ tenantId: caller.tenantId }, req.userId);
    const { totp, recoveryCodes, passkeys, pushDevices } = x.summary;
    return {
      userId: x.userId,
      generatedAt: ts(x.generatedAt),
      totp: totp ? { ...totp, startedAt: ts(totp.startedAt) } : undefined,
      recoveryCodes: recoveryCodes ? { ...recoveryCodes, generatedAt: ts(recoveryCodes.generatedAt) } : undefined,
      passkeys: passkeys.map((p) => ({ ...p, createdAt: ts(p.createdAt), lastUsedAt: p.lastUsedAt ? ts(p.lastUsedAt) : undefined })),
      pushDevices: pushDevices.map((d) => ({ ...d, registeredAt: ts(d.registeredAt) })),
      events: x.events.map((e) => ({ type: e.type, at: ts(e.at), stream: e.stream, data: structOf(e.data), metadata: structOf(e.metadata) })),
    };
  },
});
