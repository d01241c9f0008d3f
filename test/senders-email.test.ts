// The SMTP sender delivers real mail: nodemailer → smtp-server in the test → mailparser.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createConsoleEmailSender, createEmailSenderFromEnv, createSmtpEmailSender } from '../src/senders/email/index.ts';
import { ProviderError } from '../src/senders/sms/index.ts';
import { renderOtpEmail } from '../src/senders/templates.ts';

/** A real SMTP server on a free port; `rejectRcpt` makes it refuse recipients with 550. */
const smtp = async (opts: { rejectRcpt?: boolean } = {}) => {
  const mails: ParsedMail[] = [];
  const envelopes: string[][] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (opts.rejectRcpt) {
        const err = Object.assign(new Error(`mailbox ${address.address} unavailable`), { responseCode: 550 });
        return cb(err);
      }
      cb();
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((m) => {
          mails.push(m);
          envelopes.push(session.envelope.rcptTo.map((r) => r.address));
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, mails, envelopes, close: () => new Promise<void>((r) => server.close(() => r())) };
};

test('smtp: the message arrives with text and HTML holding the code, subject per locale', async () => {
  const server = await smtp();
  try {
    const sender = createSmtpEmailSender({ url: server.url, from: 'SecureKey <no-reply@securekey.test>' });
    const ko = renderOtpEmail({ code: '493817', purpose: 'login', ttlSeconds: 180 });
    const out = await sender.send({ to: 'User@example.com', ...ko });
    assert.ok(out.providerId);
    const en = renderOtpEmail({ code: '730291', purpose: 'signup', locale: 'en', ttlSeconds: 180, brandName: 'Acme' });
    await sender.send({ to: 'User@example.com', ...en });

    assert.equal(server.mails.length, 2);
    const [m1, m2] = server.mails as [ParsedMail, ParsedMail];
    assert.deepEqual(server.envelopes[0], ['User@example.com']);
    assert.equal(m1.from?.value[0]?.address, 'no-reply@securekey.test');
    assert.equal(m1.subject, '[SecureKey] 로그인 인증번호');
    assert.match(m1.text ?? '', /493817/);
    assert.match(String(m1.html), /<strong[^>]*>493817<\/strong>/);
    assert.equal(m2.subject, '[Acme] Your sign-up code');
    assert.match(m2.text ?? '', /Your sign-up code is 730291\. It expires in 3 minutes\./);
    assert.match(String(m2.html), /730291/);
  } finally {
    await server.close();
  }
});

test('smtp: a refused recipient is a ProviderError with the reply code only', async () => {
  const server = await smtp({ rejectRcpt: true });
  try {
    const sender = createSmtpEmailSender({ url: server.url, from: 'no-reply@securekey.test' });
    await assert.rejects(sender.send({ to: 'victim@example.com', subject: 's', text: 't', html: '<p>t</p>' }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.reason, 'smtp 550');
      assert.ok(!e.message.includes('victim'));
      return true;
    });
  } finally {
    await server.close();
  }
});

test('smtp: no server listening is a ProviderError', async () => {
  const server = await smtp();
  await server.close();
  const sender = createSmtpEmailSender({ url: server.url, from: 'no-reply@securekey.test', timeoutMs: 2_000 });
  await assert.rejects(sender.send({ to: 'a@example.com', subject: 's', text: 't', html: 't' }), (e: unknown) => e instanceof ProviderError && e.reason !== 'error');
});

test('console email: masked line; subject and text only in development mode', async () => {
  const lines: string[] = [];
  const msg = { to: 'user@example.com', subject: 'subj', text: 'code 123456', html: '' };
  await createConsoleEmailSender({ devMode: false, log: (l) => lines.push(l) }).send(msg);
  await createConsoleEmailSender({ devMode: true, log: (l) => lines.push(l) }).send(msg);
  assert.ok(lines.every((l) => l.includes('u***@example.com') && !l.includes('user@')));
  assert.ok(!lines[0]?.includes('123456'));
  assert.ok(lines[1]?.includes('123456'));
});

test('email from env: console by default; SMTP needs a from address', async () => {
  assert.equal((await createEmailSenderFromEnv({})).name, 'console');
  assert.equal((await createEmailSenderFromEnv({ SECUREKEY_SMTP_URL: 'smtp://127.0.0.1:1', SECUREKEY_EMAIL_FROM: 'a@b.test' })).name, 'smtp');
  await assert.rejects(() => createEmailSenderFromEnv({ SECUREKEY_SMTP_URL: 'smtp://127.0.0.1:1' }), /SECUREKEY_EMAIL_FROM/);
});

test('email from env: the SMTP sender it loads on demand delivers to the server of SECUREKEY_SMTP_URL', async () => {
  const server = await smtp();
  try {
    const sender = await createEmailSenderFromEnv({ SECUREKEY_SMTP_URL: server.url, SECUREKEY_EMAIL_FROM: 'SecureKey <no-reply@securekey.test>' });
    await sender.send({ to: 'user@example.com', ...renderOtpEmail({ code: '604213', purpose: 'login', locale: 'en', ttlSeconds: 180 }) });
    assert.equal(server.mails.length, 1);
    assert.deepEqual(server.envelopes[0], ['user@example.com']);
    assert.match(server.mails[0]!.text ?? '', /604213/);
  } finally {
    await server.close();
  }
});
