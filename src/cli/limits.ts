// `npm run admin -- limits reset --tenant T [--phone P] [--email E] [--user U]`: what the admin API's
// /limits/reset does — a user's send caps and cooldown, and TOTP throttle, lifted (src/app/limits.ts).
import { createEventLog } from '../app/event-log.ts';
import { createLimitsReset } from '../app/limits.ts';
import { resetOtpLimits } from '../app/otp.ts';
import { createTotpService } from '../app/totp.ts';
import { createUserKeys } from '../app/user-keys.ts';
import { DomainError } from '../domain/errors.ts';
import { tenantDecider, tenantStream } from '../domain/tenant/index.ts';
import { loadState } from '../eventstore/handle-command.ts';
import type { EventMetadata, EventStore } from '../eventstore/port.ts';
import type { Privacy } from '../privacy/open.ts';

export const LIMITS_HELP = `  limits reset --tenant T [--phone P] [--email E] [--user USER_ID] [--json]
                                                           lift a user's limits: the caps and resend cooldown of a phone number
                                                           or address, the TOTP throttle (delays and lock) of a user`;

export const LIMITS_OPTIONS = { phone: { type: 'string' }, email: { type: 'string' }, user: { type: 'string' } } as const;

type Out = (human: string, json: Record<string, unknown>) => void;

export const runLimitsReset = async (
  values: { tenant?: string; phone?: string; email?: string; user?: string },
  o: { store: EventStore; privacy: Privacy; out: Out; need: (v: string | undefined, flag: string) => string; meta: EventMetadata },
): Promise<number> => {
  const tenantId = o.need(values.tenant, 'tenant');
  const { state } = await loadState(o.store, tenantStream(tenantId), tenantDecider);
  if (state.status !== 'active') throw new DomainError('TENANT_NOT_FOUND', `no tenant ${tenantId}`);
  const { keyring, personal } = o.privacy;
  const deps = { events: createEventLog(o.store, personal), users: createUserKeys({ store: o.store, keyring }), keyring, now: () => Date.now() };
  const reset = createLimitsReset({ resetOtp: (t, r, m) => resetOtpLimits(deps, t, r, m), resetTotp: createTotpService(deps).resetThrottle });
  const r = await reset(tenantId, { phone: values.phone, email: values.email, userId: values.user }, { settings: state.settings, metadata: o.meta });
  const said = [values.phone && `phone: ${r.phoneReset ? 'reset' : 'nothing to reset'}`, values.email && `email: ${r.emailReset ? 'reset' : 'nothing to reset'}`, values.user && `totp: ${r.totpReset ? 'reset' : 'nothing to reset'}`];
  o.out(said.filter(Boolean).join('\n'), { phoneReset: r.phoneReset, emailReset: r.emailReset, totpReset: r.totpReset });
  return 0;
};
