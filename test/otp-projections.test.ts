// The otp-counters and otp-stats projections, driven event by event on an in-memory database.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { countSends, countTenantSends, destinationSends, otpCountersProjection } from '../projections/otp-counters/index.ts';
import { getOtpStats, otpStatsProjection, utcDay } from '../projections/otp-stats/index.ts';
import type { OtpRef } from '../src/domain/otp/index.ts';
import { otpStream } from '../src/domain/otp/index.ts';
import type { StoredEvent } from '../src/eventstore/port.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2027, 0, 15, 23, 0, 0);

let position = 0;
const event = (type: string, stream: string, ref: Partial<OtpRef> & { otpId: string; issuedAt: number }, extra: Record<string, unknown> = {}): StoredEvent => ({
  id: `e${++position}`,
  type,
  streamName: stream,
  revision: 0,
  position,
  recordedAt: new Date(0),
  metadata: {},
  data: { channel: 'sms', purpose: 'login', userId: null, masked: 'm', country: 'KR', ...ref, ...extra },
});

const fresh = () => {
  const db = new DatabaseSync(':memory:');
  otpCountersProjection.init(db);
  otpStatsProjection.init(db);
  const apply = (...events: StoredEvent[]) => {
    for (const e of events) {
      for (const p of [otpCountersProjection, otpStatsProjection]) if (p.canHandle.includes(e.type)) p.evolve(db, e);
    }
  };
  return { db, apply };
};

const A = otpStream('t1', 'sms', 'hashA');
const B = otpStream('t1', 'sms', 'hashB');

test('counters: sends per destination and per tenant, failed deliveries excluded, applying twice counts once', () => {
  const { db, apply } = fresh();
  const a1 = event('OtpIssued', A, { otpId: 'a1', issuedAt: T0 });
  const a2 = event('OtpIssued', A, { otpId: 'a2', issuedAt: T0 + 1000 });
  const b1 = event('OtpIssued', B, { otpId: 'b1', issuedAt: T0 + 2000 });
  apply(a1, a2, b1, a1);
  assert.equal(countSends(db, 't1', 'hashA', 0), 2);
  assert.deepEqual(destinationSends(db, 't1', 'hashA', T0 + 1).map((x) => x.issuedAt), [T0 + 1000]);
  assert.equal(countTenantSends(db, 't1', 'sms', 0), 3);
  assert.equal(countTenantSends(db, 't1', 'email', 0), 0);
  assert.equal(countTenantSends(db, 't2', 'sms', 0), 0);
  apply(event('OtpDeliveryFailed', A, { otpId: 'a2', issuedAt: T0 + 1000 }, { provider: 'http', reason: 'http 503', failedAt: T0 + 1100 }));
  assert.equal(countSends(db, 't1', 'hashA', 0), 1);
});

test('counters: rows older than two days (by event time) are pruned', () => {
  const { db, apply } = fresh();
  apply(event('OtpIssued', A, { otpId: 'old', issuedAt: T0 }));
  apply(event('OtpIssued', B, { otpId: 'new', issuedAt: T0 + 2 * DAY + 1 }));
  assert.equal(countSends(db, 't1', 'hashA', 0), 0);
  assert.equal(countSends(db, 't1', 'hashB', 0), 1);
});

test('stats: outcomes count on the day and country of their code; replays are ignored; reset clears', () => {
  const { db, apply } = fresh();
  const ref = { otpId: 'a1', issuedAt: T0 };
  const issued = event('OtpIssued', A, ref);
  const delivered = event('OtpDeliverySucceeded', A, ref, { provider: 'http', providerId: null, deliveredAt: T0 + 500 });
  // Verified after midnight UTC: still counted on the code's day.
  const verified = event('OtpVerified', A, ref, { attempts: 0, attemptsRemaining: 5, verifiedAt: T0 + 2 * 3600_000 });
  const us = event('OtpIssued', B, { otpId: 'b1', issuedAt: T0 + 1, country: 'US' });
  apply(issued, delivered, verified, us);
  apply(issued, verified); // redelivered: already seen positions
  assert.deepEqual(getOtpStats(db, 't1'), [
    { day: '2027-01-15', country: 'KR', channel: 'sms', sent: 1, delivered: 1, failed: 0, verified: 1, locked: 0, conversion: 1 },
    { day: '2027-01-15', country: 'US', channel: 'sms', sent: 1, delivered: 0, failed: 0, verified: 0, locked: 0, conversion: 0 },
  ]);
  otpStatsProjection.reset?.(db);
  assert.deepEqual(getOtpStats(db, 't1'), []);
});

test('projections ignore streams of other categories', () => {
  const { db, apply } = fresh();
  apply(event('OtpIssued', 'totp-t1.x', { otpId: 'x', issuedAt: T0 }));
  assert.equal(countTenantSends(db, 't1', 'sms', 0), 0);
  assert.deepEqual(getOtpStats(db, 't1'), []);
});

test('utcDay is the UTC day of any time, asked again for the same day or another one', () => {
  const times = [T0, T0 + 3_599_999, T0 + 3_600_000, T0 - 1, Date.UTC(1969, 11, 31, 23, 59), 0, Date.UTC(2027, 1, 28, 12), T0];
  for (const t of times) assert.equal(utcDay(t), new Date(t).toISOString().slice(0, 10), String(t));
  assert.throws(() => utcDay(Number.NaN), RangeError);
});
