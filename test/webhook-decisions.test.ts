// The SQLite worker's delivery rules, pure (src/webhooks/decisions.ts): what to do before and
// after an attempt, without a database, a clock or a receiver.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { afterAttempt, planAttempt } from '../src/webhooks/decisions.ts';
import { signBody } from '../src/webhooks/sign.ts';

const NOW = 1_800_000_000_000;
const HOUR = 3600_000;
const delivery = { deliveryId: 'whd_e1', eventId: 'e1', body: '{"event":"verification.succeeded"}', createdAt: NOW - 1000, attempts: 0, roundAttempts: 0 };
const endpoint = { url: 'https://hooks.example.com/x', secret_enc: 'enc:new', previous_secret_enc: 'enc:old', rotated_at: NOW - HOUR };
const decrypt = (enc: string) => enc.replace('enc:', 'whsec_');
const plan = (o: Partial<Parameters<typeof planAttempt>[0]> = {}) => planAttempt({ delivery, endpoint, decrypt, now: NOW, maxAgeMs: 72 * HOUR, secretGraceMs: 24 * HOUR, ...o });

describe('before an attempt', () => {
  test('a delivery is sent to the tenant URL, signed with the current secret and, during the grace period, the previous one', () => {
    const p = plan();
    assert.equal(p.kind, 'send');
    if (p.kind !== 'send') return;
    assert.equal(p.url, endpoint.url);
    assert.equal(p.headers['X-SecureKey-Signature'], signBody('whsec_new', delivery.body));
    assert.equal(p.headers['X-SecureKey-Signature-Previous'], signBody('whsec_old', delivery.body));
    const later = plan({ now: NOW + 25 * HOUR, delivery: { ...delivery, attempts: 1 } });
    assert.equal(later.kind === 'send' && later.headers['X-SecureKey-Signature-Previous'], undefined);
  });

  test('what cannot succeed until an operator acts is given up at once (dead), with the reason', () => {
    assert.deepEqual(plan({ endpoint: undefined }), { kind: 'dead', reason: 'no webhook URL configured' });
    assert.deepEqual(plan({ endpoint: { ...endpoint, url: '' } }), { kind: 'dead', reason: 'no webhook URL configured' });
    assert.deepEqual(plan({ endpoint: { ...endpoint, secret_enc: null } }), { kind: 'dead', reason: 'no webhook secret: rotate the webhook secret, then redeliver' });
    assert.deepEqual(plan({ decrypt: () => { throw new Error('wrong key'); } }), { kind: 'dead', reason: 'webhook secret cannot be decrypted with this master key' });
  });

  test('a first attempt long after its event is not made (a rebuilt database does not replay history); a retry is', () => {
    assert.deepEqual(plan({ delivery: { ...delivery, createdAt: NOW - 73 * HOUR } }), { kind: 'dead', reason: 'not sent: the event is older than 72 h' });
    assert.equal(plan({ delivery: { ...delivery, createdAt: NOW - 73 * HOUR, attempts: 3 } }).kind, 'send');
  });
});

describe('after an attempt', () => {
  const backoff = { baseMs: 1000, maxMs: 8000 };
  const after = (result: Parameters<typeof afterAttempt>[0]['result'], roundAttempts: number) => afterAttempt({ result, roundAttempts, maxAttempts: 3, backoff, random: () => 0.5, now: NOW });

  test('a 2xx is delivered', () => assert.deepEqual(after({ status: 204 }, 1), { status: 'delivered', statusCode: 204 }));

  test('a failure is retried after a growing, jittered delay, and dead once the attempts of the round are spent', () => {
    assert.deepEqual(after({ status: 500 }, 1), { status: 'pending', statusCode: 500, error: 'http 500', nextAttemptAt: NOW + 750 });
    assert.deepEqual(after({ error: 'timeout after 10 ms' }, 2), { status: 'pending', statusCode: null, error: 'timeout after 10 ms', nextAttemptAt: NOW + 1500 });
    assert.deepEqual(after({ status: 410 }, 3), { status: 'dead', statusCode: 410, error: 'http 410' });
  });
});
