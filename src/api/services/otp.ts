// SmsOtpService and EmailOtpService: proto ↔ src/app/otp.ts.
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import type { OtpService } from '../../app/otp.ts';
import type { OtpChannel } from '../../domain/channel.ts';
import type { EmailOtpService, SmsOtpService } from '../../gen/securekey/v1/otp_pb.js';
import type { Caller } from '../context.ts';
import { callerOf, type ChannelDeps } from './common.ts';

const send = (app: OtpService, channel: OtpChannel) => async (req: { destination: string; purpose: string; userId: string; locale: string }, caller: Caller) => {
  const r = await app.send(caller, {
    channel,
    destination: req.destination,
    purpose: req.purpose || undefined,
    userId: req.userId || undefined,
    locale: req.locale || undefined,
    settings: caller.tenant.settings, // the tenant's own (frozen) object: its resolved form is cached
    defaultBrandName: caller.tenant.name,
  });
  return { expiresIn: r.expiresIn, expiresAt: timestampFromMs(r.expiresAt), resendAfter: r.resendAfter, to: r.to };
};

const verify = (app: OtpService, deps: ChannelDeps, channel: OtpChannel) => async (req: { destination: string; code: string }, caller: Caller) => {
  const r = await deps.gate.verify(caller.tenantId, channel, () => app.verify(caller, { channel, destination: req.destination, code: req.code, settings: caller.tenant.settings }));
  return { verified: r.verified, attemptsRemaining: r.attemptsRemaining };
};

export const createSmsOtpImpl = (app: OtpService, deps: ChannelDeps): ServiceImpl<typeof SmsOtpService> => {
  const s = send(app, 'sms');
  const v = verify(app, deps, 'sms');
  return {
    sendSmsOtp: (req, ctx) => s({ destination: req.phone, purpose: req.purpose, userId: req.userId, locale: req.locale }, callerOf(ctx)),
    verifySmsOtp: (req, ctx) => v({ destination: req.phone, code: req.code }, callerOf(ctx)),
  };
};

export const createEmailOtpImpl = (app: OtpService, deps: ChannelDeps): ServiceImpl<typeof EmailOtpService> => {
  const s = send(app, 'email');
  const v = verify(app, deps, 'email');
  return {
    sendEmailOtp: (req, ctx) => s({ destination: req.email, purpose: req.purpose, userId: req.userId, locale: req.locale }, callerOf(ctx)),
    verifyEmailOtp: (req, ctx) => v({ destination: req.email, code: req.code }, callerOf(ctx)),
  };
};
