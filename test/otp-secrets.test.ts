// Codes, phone numbers and addresses never appear in clear: not in any event's data or metadata,
// not in stream names, not in the read models, not in log lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../src/domain/errors.ts';
import { createConsoleEmailSender } from '../src/senders/email/index.ts';
import { createConsoleSmsSender, ProviderError } from '../src/senders/sms/index.ts';
import { caller, otpHarnessPerTest } from './fixtures/otp-harness.ts';

const { harness } = otpHarnessPerTest();

/** Every string and number inside a value. */
const leaves = (v: unknown, out: (string | number)[] = []): (string | number)[] => {
  if (typeof v === 'string' || typeof v === 'number') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => leaves(x, out));
  else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => (out.push(k), leaves(x, out)));
  return out;
};
// Hashes and UUIDs are random-looking hex: a 6-digit code could appear in one by chance.
/** Hashes, ids and sealed values (src/privacy/personal-data.ts): random text where digits may occur by chance. */
const OPAQUE = /^([0-9a-f]{64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|pd1\.[A-Za-z0-9_.-]+)$/i;

test('no code, phone number or email address in clear in events, stream names, read models or logs', async () => {
  const logLines: string[] = [];
  const texts: string[] = [];
  let failNext = false;
  const consoleSms = createConsoleSmsSender({ devMode: false, log: (l) => logLines.push(l) });
  const consoleEmail = createConsoleEmailSender({ devMode: false, log: (l) => logLines.push(l) });
  // The real console senders (production mode) behind a "handset" that keeps what it received.
  const h = await harness({
    smsSender: {
      name: 'console',
      send: async (m) => {
        texts.push(m.text);
        if (failNext) throw new ProviderError('console', 'http 500');
        return consoleSms.send(m);
      },
    },
    emailSender: { name: 'console', send: async (m) => (texts.push(m.text), consoleEmail.send(m)) },
  });
  const code = () => /(?:는|is) (\d+)/.exec(texts.at(-1) ?? '')?.[1] as string;
  const codes: string[] = [];
  const phone = { channel: 'sms' as const, destination: '01012345678' };
  const email = { channel: 'email' as const, destination: 'Kim.Minji@Example.com' };

  await h.service.send(caller(), { ...phone, userId: 'user_123' });
  codes.push(code());
  await h.service.verify(caller(), { ...phone, code: codes[0] === '000000' ? '000001' : '000000' });
  await h.service.verify(caller(), { ...phone, code: codes[0] as string });
  h.clock.now += 60_000;
  await h.service.send(caller(), email);
  codes.push(code());
  h.clock.now += 200_000;
  await h.service.verify(caller(), { ...email, code: codes[1] as string }).catch((e) => assert.equal((e as DomainError).code, 'OTP_EXPIRED'));
  failNext = true;
  await h.service.send(caller(), { ...phone, destination: '+821098765432' }).catch((e) => assert.equal((e as DomainError).code, 'UNAVAILABLE'));
  codes.push(code());
  await h.caughtUp();

  const secrets = ['+821012345678', '01012345678', '1012345678', '+821098765432', '1098765432', 'Kim.Minji@example.com', 'Kim.Minji', 'kim.minji'];
  const check = (where: string, values: (string | number)[]) => {
    for (const v of values) {
      const s = String(v);
      for (const secret of secrets) assert.ok(!s.includes(secret), `${where}: found a destination in ${s}`);
      for (const c of codes) {
        if (typeof v === 'number') assert.notEqual(s, c, `${where}: found a code`);
        else if (!OPAQUE.test(s)) assert.ok(!s.includes(c), `${where}: found a code in ${s}`);
      }
    }
  };

  // The scan itself catches a planted leak.
  assert.throws(() => check('self-test', [`x${codes[0]}x`]));
  assert.throws(() => check('self-test', ['to 010-1234-5678 or 01012345678']));

  const stored = await h.store.readAll();
  assert.ok(stored.length >= 9);
  for (const e of stored) {
    check(`${e.type} data`, leaves(e.data));
    check(`${e.type} metadata`, leaves(e.metadata));
    check('stream name', e.streamName.split('.'));
  }
  for (const { name } of h.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]) {
    check(`read model ${name}`, leaves(h.db.prepare(`SELECT * FROM "${name}"`).all()));
  }
  check('log lines', logLines.flatMap((l) => l.split(/\s+/)));
  check('warnings', leaves(h.warnings));
  assert.equal(logLines.length, 2);
  assert.equal(h.warnings.length, 1);
  // The destination is recoverable only with the key.
  const issued = h.privacy.personal.open(stored.find((e) => e.type === 'OtpIssued')!);
  assert.equal(h.keyring.decrypt('destination', issued.data.destinationEnc as string), '+821012345678');
});
