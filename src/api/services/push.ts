// PushService: proto ↔ src/app/push.ts. The MFA gate applies where the tenant learns the outcome
// (/push/verify), with channel "push".
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import type { PushService as PushApp } from '../../app/push.ts';
import type { PushService } from '../../gen/securekey/v1/push_pb.js';
import { callerOf, type ChannelDeps } from './common.ts';

export const createPushImpl = (app: PushApp, deps: ChannelDeps): ServiceImpl<typeof PushService> => ({
  registerDevice: async (req, ctx) => {
    const r = await app.registerDevice(callerOf(ctx), { userId: req.userId, fcmToken: req.fcmToken, platform: req.platform, deviceName: req.deviceName || undefined });
    return { deviceId: r.deviceId };
  },
  listDevices: async (req, ctx) => {
    const r = await app.listDevices(callerOf(ctx), { userId: req.userId });
    return { devices: r.devices.map((d) => ({ deviceId: d.deviceId, deviceName: d.deviceName, platform: d.platform, stale: d.stale, registeredAt: timestampFromMs(d.registeredAt) })) };
  },
  removeDevice: async (req, ctx) => {
    await app.removeDevice(callerOf(ctx), { userId: req.userId, deviceId: req.deviceId });
    return { removed: true };
  },
  sendPush: async (req, ctx) => {
    const caller = callerOf(ctx);
    const s = caller.tenant.settings;
    const r = await app.send(caller, {
      userId: req.userId,
      title: req.title,
      body: req.body || undefined,
      purpose: req.purpose || undefined,
      settings: { pushTtlSeconds: s.pushTtlSeconds, pushNumberMatching: s.pushNumberMatching, pushMaxPending: s.pushMaxPending },
    });
    return { requestId: r.requestId, expiresAt: timestampFromMs(r.expiresAt), status: r.status, number: r.number };
  },
  respondPush: async (req, ctx) => {
    const r = await app.respond(callerOf(ctx), { requestId: req.requestId, action: req.action, number: req.number || undefined, notMe: req.notMe });
    return { status: r.status };
  },
  verifyPush: async (req, ctx) => {
    const caller = callerOf(ctx);
    // The gate applies where the tenant learns the outcome (the approval came with /push/respond),
    // and before the approval is used: MFA_REQUIRED leaves it to verify later.
    const r = await app.verify(caller, { requestId: req.requestId, userId: req.userId || undefined }, async (approved) => {
      await deps.gate.check(caller.tenantId, 'push', approved);
    });
    return { verified: r.verified, status: r.status };
  },
});
