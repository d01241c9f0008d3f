// Fatigue defences: a per-user index of push requests. Opening a request here is the gate for
// sending it, so the caps are checked and the new entry recorded in one append with an expected
// revision — two racing sends for the same user are linearised by the store, and neither cap can
// be overshot. Closing (after approve/deny/expire) is a second, best-effort write: if it is lost,
// the entry still stops counting as pending at its expiresAt, so the cap errs on the safe side.
import { assertNever, type Decider } from '../decider.ts';
import { DomainError } from '../errors.ts';

export const DEFAULT_MAX_PER_WINDOW = 10;
export const DEFAULT_WINDOW_SECONDS = 600;
/** Entries kept in state. Caps above this are meaningless, so the app clamps limits to it. */
export const MAX_TRACKED = 200;

export type InboxEvent =
  | { type: 'PushRequestOpened'; data: { requestId: string; at: number; expiresAt: number } }
  | { type: 'PushRequestClosed'; data: { requestId: string; at: number } };

export type FatigueLimits = {
  /** Max requests pending at once; 0 = no cap. */
  maxPending: number;
  /** Max requests opened per window; 0 = no cap. */
  maxPerWindow: number;
  windowSeconds: number;
};

export type InboxCommand =
  | { type: 'OpenPushRequest'; data: { requestId: string; at: number; expiresAt: number; limits: FatigueLimits } }
  | { type: 'ClosePushRequest'; data: { requestId: string; at: number } };

export type InboxEntry = { requestId: string; at: number; expiresAt: number; closed: boolean };
export type InboxState = { entries: InboxEntry[] };

export const pendingAt = (state: InboxState, now: number) => state.entries.filter((e) => !e.closed && e.expiresAt > now);

const secondsUntil = (t: number, now: number) => Math.max(1, Math.ceil((t - now) / 1000));

export const inboxDecider: Decider<InboxCommand, InboxEvent, InboxState> = {
  snapshotVersion: 1,
  initialState: () => ({ entries: [] }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'PushRequestOpened':
        return { entries: [...state.entries.slice(-(MAX_TRACKED - 1)), { ...event.data, closed: false }] };
      case 'PushRequestClosed':
        return { entries: state.entries.map((e) => (e.requestId === event.data.requestId ? { ...e, closed: true } : e)) };
      default:
        return ignoreUnknown(event, state);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'OpenPushRequest': {
        const { requestId, at, expiresAt, limits } = command.data;
        const pending = pendingAt(state, at);
        if (limits.maxPending > 0 && pending.length >= limits.maxPending) {
          const firstFree = Math.min(...pending.map((e) => e.expiresAt));
          throw new DomainError('TOO_MANY_PENDING', `this user already has ${pending.length} pending push requests (at most ${limits.maxPending}); wait for one to be answered or to expire`, {
            retryAfterSeconds: secondsUntil(firstFree, at),
          });
        }
        const windowMs = limits.windowSeconds * 1000;
        const recent = state.entries.filter((e) => e.at > at - windowMs);
        if (limits.maxPerWindow > 0 && recent.length >= limits.maxPerWindow) {
          const oldest = Math.min(...recent.map((e) => e.at));
          throw new DomainError('TOO_MANY_PENDING', `this user was sent ${recent.length} push requests in the last ${limits.windowSeconds} s (at most ${limits.maxPerWindow})`, {
            retryAfterSeconds: secondsUntil(oldest + windowMs, at),
          });
        }
        return [{ type: 'PushRequestOpened', data: { requestId, at, expiresAt } }];
      }
      case 'ClosePushRequest': {
        const e = state.entries.find((x) => x.requestId === command.data.requestId);
        if (!e || e.closed) return [];
        return [{ type: 'PushRequestClosed', data: command.data }];
      }
      default:
        return assertNever(command);
    }
  },
};

const ignoreUnknown = (_event: never, state: InboxState): InboxState => state;
