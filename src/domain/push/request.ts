// One push approval request: requested → delivered/failed per device → approved | denied | expired.
// A response is accepted once, only while pending and before expiresAt. Expiry is derived at read
// time (statusAt); PushExpired is stored only when someone observes it (ExpirePush). An approval
// verifies once (ConsumeApproval, like a one-time code), and only before expiresAt.
// With number matching, the login screen shows `number` and the device offers `choices`; the
// number is a short-lived challenge shown to both sides by design, not a credential, so it is
// stored as is.
import { assertNever, type Decider } from '../decider.ts';
import { DomainError } from '../errors.ts';

/** cancelled: the user was erased while the request was pending. */
export type PushStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';
export type DenyReason = 'user' | 'number_mismatch';

type Who = { requestId: string; userId: string; purpose: string; at: number };

export type PushRequestEvent =
  | {
      type: 'PushRequested';
      data: { requestId: string; userId: string; userIdHash: string; title: string; body: string; purpose: string; expiresAt: number; number?: number; choices?: number[]; at: number };
    }
  | { type: 'PushDelivered'; data: { requestId: string; deviceId: string; at: number } }
  | { type: 'PushDeliveryFailed'; data: { requestId: string; deviceId: string; reason: string; stale: boolean; at: number } }
  | { type: 'PushApproved'; data: Who }
  | { type: 'PushDenied'; data: Who & { notMe: boolean; reason: DenyReason } }
  | { type: 'PushReportedNotMe'; data: Who }
  | { type: 'PushExpired'; data: Who & { expiresAt: number } }
  | { type: 'PushCancelled'; data: Who & { reason: 'user_erased' } }
  /** The tenant's verify saw the approval: it never verifies again. */
  | { type: 'PushApprovalConsumed'; data: Who };

export type DeliveryOutcome = { deviceId: string; ok: true } | { deviceId: string; ok: false; reason: string; stale: boolean };

export type PushRequestCommand =
  | { type: 'RequestPush'; data: Extract<PushRequestEvent, { type: 'PushRequested' }>['data'] }
  | { type: 'RecordDeliveries'; data: { deliveries: DeliveryOutcome[]; at: number } }
  | { type: 'RespondPush'; data: { action: string; number?: number; notMe?: boolean; at: number } }
  | { type: 'ExpirePush'; data: { at: number } }
  | { type: 'CancelPush'; data: { at: number } }
  | { type: 'ConsumeApproval'; data: { at: number } };

export type PushRequestState =
  | { status: 'none' }
  | {
      status: PushStatus;
      requestId: string;
      userId: string;
      userIdHash: string;
      purpose: string;
      requestedAt: number;
      expiresAt: number;
      number?: number;
      /** deviceId → outcome of the delivery attempt. */
      deliveries: Record<string, 'delivered' | 'failed'>;
      respondedAt?: number;
      /** When a verify used the approval. */
      consumedAt?: number;
    };

export type KnownPushRequest = Exclude<PushRequestState, { status: 'none' }>;

/** The status as of `now`: a pending request past its expiry reads as expired. */
export const pushStatusAt = (state: KnownPushRequest, now: number): PushStatus =>
  state.status === 'pending' && now >= state.expiresAt ? 'expired' : state.status;

const who = (s: KnownPushRequest, at: number): Who => ({ requestId: s.requestId, userId: s.userId, purpose: s.purpose, at });

export const pushRequestDecider: Decider<PushRequestCommand, PushRequestEvent, PushRequestState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    if (event.type === 'PushRequested') {
      const d = event.data;
      return { status: 'pending', requestId: d.requestId, userId: d.userId, userIdHash: d.userIdHash, purpose: d.purpose, requestedAt: d.at, expiresAt: d.expiresAt, number: d.number, deliveries: {} };
    }
    if (state.status === 'none') return state;
    switch (event.type) {
      case 'PushDelivered':
        return { ...state, deliveries: { ...state.deliveries, [event.data.deviceId]: 'delivered' } };
      case 'PushDeliveryFailed':
        return { ...state, deliveries: { ...state.deliveries, [event.data.deviceId]: 'failed' } };
      case 'PushApproved':
        return { ...state, status: 'approved', respondedAt: event.data.at };
      case 'PushDenied':
        return { ...state, status: 'denied', respondedAt: event.data.at };
      case 'PushReportedNotMe':
        return state;
      case 'PushExpired':
        return { ...state, status: 'expired' };
      case 'PushCancelled':
        return { ...state, status: 'cancelled' };
      case 'PushApprovalConsumed':
        return { ...state, consumedAt: event.data.at };
      default:
        return ignoreUnknown(event, state);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'RequestPush':
        if (state.status !== 'none') throw new DomainError('CONFLICT', 'a push request with this requestId already exists');
        return [{ type: 'PushRequested', data: command.data }];
      case 'RecordDeliveries': {
        if (state.status === 'none') throw new DomainError('PUSH_NOT_FOUND', 'no push request with this requestId');
        const { at } = command.data;
        return command.data.deliveries
          .filter((d) => !(d.deviceId in state.deliveries))
          .map((d): PushRequestEvent =>
            d.ok
              ? { type: 'PushDelivered', data: { requestId: state.requestId, deviceId: d.deviceId, at } }
              : { type: 'PushDeliveryFailed', data: { requestId: state.requestId, deviceId: d.deviceId, reason: d.reason, stale: d.stale, at } },
          );
      }
      case 'RespondPush': {
        const { action, number, notMe, at } = command.data;
        if (action !== 'approve' && action !== 'deny') throw new DomainError('INVALID_ARGUMENT', `action: expected "approve" or "deny", got ${JSON.stringify(String(action).slice(0, 20))}`);
        if (state.status === 'none') throw new DomainError('PUSH_NOT_FOUND', 'no push request with this requestId');
        const status = pushStatusAt(state, at);
        if (status === 'approved' || status === 'denied') throw new DomainError('ALREADY_RESPONDED', `this push request was already answered (${status})`);
        if (status === 'expired') throw new DomainError('PUSH_EXPIRED', 'this push request expired before it was answered; send a new one');
        if (status === 'cancelled') throw new DomainError('PUSH_NOT_FOUND', 'this push request was cancelled');
        if (action === 'deny') {
          const denied: PushRequestEvent = { type: 'PushDenied', data: { ...who(state, at), notMe: notMe === true, reason: 'user' } };
          return notMe === true ? [denied, { type: 'PushReportedNotMe', data: who(state, at) }] : [denied];
        }
        if (state.number !== undefined) {
          if (number === undefined) throw new DomainError('INVALID_ARGUMENT', 'number: expected the number the user picked on the device (number matching is on)');
          if (number !== state.number) return [{ type: 'PushDenied', data: { ...who(state, at), notMe: false, reason: 'number_mismatch' } }];
        }
        return [{ type: 'PushApproved', data: who(state, at) }];
      }
      case 'CancelPush':
        if (state.status === 'none' || pushStatusAt(state, command.data.at) !== 'pending') return [];
        return [{ type: 'PushCancelled', data: { ...who(state, command.data.at), reason: 'user_erased' } }];
      case 'ConsumeApproval': {
        const { at } = command.data;
        if (state.status === 'none') throw new DomainError('PUSH_NOT_FOUND', 'no push request with this requestId');
        if (state.consumedAt !== undefined) throw new DomainError('PUSH_NOT_FOUND', 'this push approval was already used; send a new push request');
        // Nothing to use: not approved, or approved too late to count (nothing verifies after expiresAt).
        if (state.status !== 'approved' || at >= state.expiresAt) return [];
        return [{ type: 'PushApprovalConsumed', data: who(state, at) }];
      }
      case 'ExpirePush':
        if (state.status === 'none' || pushStatusAt(state, command.data.at) !== 'expired' || state.status === 'expired') return [];
        return [{ type: 'PushExpired', data: { ...who(state, command.data.at), expiresAt: state.expiresAt } }];
      default:
        return assertNever(command);
    }
  },
};

/** evolve never throws: an event type from a newer version leaves the state as it is. */
const ignoreUnknown = (_event: never, state: PushRequestState): PushRequestState => state;
