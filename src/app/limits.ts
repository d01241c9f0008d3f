// Resetting a user's limits, for a tenant's support desk (LimitsService) or the operator (admin API,
// `npm run admin -- limits reset`): the caps and cooldown of a phone number or an address, and a
// user's TOTP throttle. The lock-out policy this completes: docs/security.md.
import { DomainError } from '../domain/errors.ts';
import type { OtpChannel } from '../domain/otp/index.ts';
import type { TenantSettings } from '../domain/tenant/index.ts';
import type { EventMetadata } from '../eventstore/port.ts';

export type ResetLimitsInput = { phone?: string; email?: string; userId?: string };
export type ResetLimitsResult = { phoneReset: boolean; emailReset: boolean; totpReset: boolean; position: number };

/** A reset whose input was checked when it was made (it threw then), and that writes when run. */
type Checked = () => Promise<{ reset: boolean; position: number }>;

/** The services that own each limit (src/app/otp.ts resetOtpLimits, the TOTP service's
 * resetThrottle), composed by the caller: one service never reaches into another. */
export type LimitResetters = {
  resetOtp: (tenantId: string, req: { channel: OtpChannel; destination: string; settings?: TenantSettings }, metadata: EventMetadata) => Checked;
  resetTotp: (tenantId: string, userId: string, metadata: EventMetadata) => Checked;
};

export const createLimitsReset = (deps: LimitResetters) =>
  async (tenantId: string, input: ResetLimitsInput, o: { settings?: TenantSettings; metadata: EventMetadata }): Promise<ResetLimitsResult> => {
    if (!input.phone && !input.email && !input.userId) throw new DomainError('INVALID_ARGUMENT', 'expected at least one of phone, email and userId');
    const none: Checked = async () => ({ reset: false, position: 0 });
    // Every input is checked before anything is written: a bad email never leaves the phone reset.
    const resets = [
      input.phone ? deps.resetOtp(tenantId, { channel: 'sms', destination: input.phone, settings: o.settings }, o.metadata) : none,
      input.email ? deps.resetOtp(tenantId, { channel: 'email', destination: input.email, settings: o.settings }, o.metadata) : none,
      input.userId ? deps.resetTotp(tenantId, input.userId, o.metadata) : none,
    ];
    const phone = await resets[0]();
    const email = await resets[1]();
    const userTotp = await resets[2]();
    return { phoneReset: phone.reset, emailReset: email.reset, totpReset: userTotp.reset, position: Math.max(phone.position, email.position, userTotp.position) };
  };

export type LimitsReset = ReturnType<typeof createLimitsReset>;
