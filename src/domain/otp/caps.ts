// How many codes one destination may get, decided so that an attacker cannot lock a victim out for
// hours (docs/security.md, lock-out policy). Codes sent by one requester — the end user's address
// when the tenant passes it, else its API key — count against that requester's hourly and daily
// caps; all requesters together only against a short burst cap. A victim asking from their own
// address is therefore not refused because someone else used up the caps, and what bombing from
// many addresses can deny lasts at most one burst window.
import { DomainError } from '../errors.ts';

/** A code sent to the destination (failed deliveries do not count). */
export type DestinationSend = { issuedAt: number; requester: string | null };

export type DestinationCaps = {
  /** Codes per requester per rolling hour / 24 h (0: no cap). */
  perRequesterHour: number;
  perRequesterDay: number;
  /** Codes from all requesters per burst window (0: no cap). */
  burst: number;
};

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** The burst cap's window: also the longest that sends from other requesters can deny one. */
export const BURST_WINDOW_MS = 10 * 60_000;
/** How far back the caps look. */
export const CAPS_LOOKBACK_MS = DAY;

/** DESTINATION_LIMIT (with the seconds until the oldest counted send leaves its window) when
 * another code for `requester` would exceed a cap, else null. Pure. */
export const destinationCapRefusal = (sends: readonly DestinationSend[], requester: string, caps: DestinationCaps, now: number): DomainError | null => {
  const own = sends.filter((s) => s.requester === requester).map((s) => s.issuedAt);
  const all = sends.map((s) => s.issuedAt);
  let retryAt = 0;
  const exceeded: string[] = [];
  const check = (times: number[], cap: number, window: number, label: string) => {
    const inWindow = times.filter((t) => t > now - window).sort((a, b) => a - b);
    if (cap > 0 && inWindow.length >= cap) {
      exceeded.push(label);
      retryAt = Math.max(retryAt, inWindow[inWindow.length - cap]! + window);
    }
  };
  check(own, caps.perRequesterHour, HOUR, `${caps.perRequesterHour} per hour for this requester`);
  check(own, caps.perRequesterDay, DAY, `${caps.perRequesterDay} per 24 hours for this requester`);
  check(all, caps.burst, BURST_WINDOW_MS, `${caps.burst} per ${BURST_WINDOW_MS / 60_000} minutes`);
  if (exceeded.length === 0) return null;
  const retryAfterSeconds = Math.max(1, Math.ceil((retryAt - now) / 1000));
  return new DomainError('DESTINATION_LIMIT', `too many codes were sent to this destination (limit ${exceeded.join(', ')}); retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
};
