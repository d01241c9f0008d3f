// Type-level tests, checked by the `tsc -p .` that `npm test` runs first (never executed). Each
// `@ts-expect-error` line is a mistake tsc must refuse: should one of them ever compile, tsc
// fails with "Unused '@ts-expect-error' directive", so the build breaks exactly when a guarantee
// below is lost. The mistakes are made on copies of the real types, the build stays green.
import type { ServiceImpl } from '@connectrpc/connect';
import { type AuditTable, AUDIT_ACTIONS } from '../../projections/audit/actions.ts';
import { projection } from '../../projections/runtime.ts';
import type { DomainEvent, EventDataMap } from '../../src/domain/events.ts';
import type { SmsOtpService } from '../../src/gen/securekey/v1/otp_pb.js';
import { type WebhookTable, WEBHOOK_EVENTS } from '../../src/webhooks/events.ts';

// ── a renamed request field ─────────────────────────────────────────────────────────────────
// The handler reads the field the proto declares; `phoneNumber` (a rename in the handler, or the
// field renamed in the proto) is refused.
export const readsTheProtoField: Pick<ServiceImpl<typeof SmsOtpService>, 'sendSmsOtp'> = {
  sendSmsOtp: (req) => ({ to: req.phone }),
};
export const readsARenamedField: Pick<ServiceImpl<typeof SmsOtpService>, 'sendSmsOtp'> = {
  // @ts-expect-error phoneNumber is not a field of securekey.v1.SendSmsOtpRequest
  sendSmsOtp: (req) => ({ to: req.phoneNumber }),
};
export const answersARenamedField: Pick<ServiceImpl<typeof SmsOtpService>, 'sendSmsOtp'> = {
  // @ts-expect-error expiresInSeconds is not a field of securekey.v1.SendOtpResponse
  sendSmsOtp: () => ({ expiresInSeconds: 180 }),
};

// ── a missing or misspelt handler ───────────────────────────────────────────────────────────
// @ts-expect-error verifySmsOtp is missing: every RPC of the service needs its handler
export const missingHandler: ServiceImpl<typeof SmsOtpService> = { sendSmsOtp: () => ({}) };
export const misspeltHandler: ServiceImpl<typeof SmsOtpService> = {
  sendSmsOtp: () => ({}),
  verifySmsOtp: () => ({}),
  // @ts-expect-error verifySmsOTP is not an RPC of SmsOtpService
  verifySmsOTP: () => ({}),
};

// ── a renamed or added event ────────────────────────────────────────────────────────────────
// The catalogue as it would be with OtpVerified renamed OtpConfirmed, and with an event added.
type Renamed = Exclude<DomainEvent, { type: 'OtpVerified' }> | { type: 'OtpConfirmed'; data: EventDataMap['OtpVerified'] };
type Added = DomainEvent | { type: 'OtpResent'; data: { otpId: string } };

// Both tables must decide about every event: the renamed one has no entry in either.
// @ts-expect-error the audit table has no entry for OtpConfirmed
export const auditAfterRename: AuditTable<Renamed> = AUDIT_ACTIONS;
// @ts-expect-error the webhook table has no entry for OtpConfirmed
export const webhooksAfterRename: WebhookTable<Renamed> = WEBHOOK_EVENTS;
// @ts-expect-error the audit table has not decided about OtpResent
export const auditAfterAdd: AuditTable<Added> = AUDIT_ACTIONS;
// @ts-expect-error the webhook table has not decided about OtpResent
export const webhooksAfterAdd: WebhookTable<Added> = WEBHOOK_EVENTS;
// As they are, they fit the catalogue.
export const auditNow: AuditTable = AUDIT_ACTIONS;
export const webhooksNow: WebhookTable = WEBHOOK_EVENTS;

// A projection handles only catalogue events, and reads the data its events carry.
export const renamedInProjection = projection({
  name: 'typed',
  // @ts-expect-error OtpConfirmed is not an event of the catalogue
  canHandle: ['OtpConfirmed'],
  init: () => {},
  evolve: () => {},
});
export const readsItsEvents = projection({
  name: 'typed',
  canHandle: ['OtpVerified'],
  init: () => {},
  evolve: (_db, e) => {
    void e.data.verifiedAt;
    // @ts-expect-error OtpVerified carries verifiedAt, not confirmedAt
    void e.data.confirmedAt;
  },
});
