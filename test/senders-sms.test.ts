// SMS senders against real local peers: an HTTP gateway and a Twilio-like API.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import {
  createConsoleSmsSender,
  createHttpSmsSender,
  createSmsSenderFromEnv,
  createTwilioSmsSender,
  ProviderError,
} from '../src/senders/sms/index.ts';

type Seen = { method?: string; url?: string; headers: IncomingMessage['headers']; body: string };

/** A real HTTP server for one test; `reply` decides the answer. Closed by the caller (await close()). */
const peer = async (reply: (seen: Seen, res: ServerResponse) => void) => {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const s = { method: req.method, url: req.url, headers: req.headers, body };
      seen.push(s);
      reply(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
};

const rejectsProvider = async (p: Promise<unknown>, reason: string) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ProviderError);
    assert.equal(e.reason, reason);
    assert.ok(!e.message.includes('+821012345678'));
    return true;
  });

test('http gateway: receives POST JSON {to, text} with the auth header', async () => {
  const gw = await peer((_s, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"msg-42"}'));
  try {
    const sender = createHttpSmsSender({ url: `${gw.url}/sms`, authHeader: 'Bearer gw-token' });
    const out = await sender.send({ to: '+821012345678', text: '[SecureKey] 123456' });
    assert.deepEqual(out, { providerId: 'msg-42' });
    assert.equal(gw.seen.length, 1);
    const [s] = gw.seen;
    assert.equal(s?.method, 'POST');
    assert.equal(s?.url, '/sms');
    assert.equal(s?.headers['content-type'], 'application/json');
    assert.equal(s?.headers.authorization, 'Bearer gw-token');
    assert.deepEqual(JSON.parse(s?.body ?? ''), { to: '+821012345678', text: '[SecureKey] 123456' });
  } finally {
    await gw.close();
  }
});

test('http gateway: a "Name: value" auth setting is sent as that header', async () => {
  const gw = await peer((_s, res) => res.writeHead(204).end());
  try {
    await createHttpSmsSender({ url: gw.url, authHeader: 'X-Api-Key: k-1' }).send({ to: '+821012345678', text: 'x' });
    assert.equal(gw.seen[0]?.headers['x-api-key'], 'k-1');
    assert.equal(gw.seen[0]?.headers.authorization, undefined);
  } finally {
    await gw.close();
  }
});

test('http gateway: a non-2xx answer is a ProviderError with a safe reason', async () => {
  const gw = await peer((_s, res) => res.writeHead(503).end('number +821012345678 unavailable'));
  try {
    await rejectsProvider(createHttpSmsSender({ url: gw.url }).send({ to: '+821012345678', text: 'x' }), 'http 503');
  } finally {
    await gw.close();
  }
});

test('http gateway: a gateway that does not answer in time is a timeout', async () => {
  const gw = await peer(() => {});
  try {
    await rejectsProvider(createHttpSmsSender({ url: gw.url, timeoutMs: 100 }).send({ to: '+821012345678', text: 'x' }), 'timeout');
  } finally {
    await gw.close();
  }
});

test('http gateway: nobody listening is a network failure', async () => {
  const gw = await peer(() => {});
  await gw.close();
  await rejectsProvider(createHttpSmsSender({ url: gw.url }).send({ to: '+821012345678', text: 'x' }), 'network');
});

test('twilio: Messages API receives a form-encoded body with basic auth', async () => {
  const api = await peer((_s, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"sid":"SM0123","status":"queued"}'));
  try {
    const sender = createTwilioSmsSender({ accountSid: 'AC123', authToken: 'tok', from: '+15005550006', baseUrl: `${api.url}/` });
    assert.deepEqual(await sender.send({ to: '+821012345678', text: '코드 123456' }), { providerId: 'SM0123' });
    const [s] = api.seen;
    assert.equal(s?.method, 'POST');
    assert.equal(s?.url, '/2010-04-01/Accounts/AC123/Messages.json');
    assert.equal(s?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(s?.headers.authorization, `Basic ${Buffer.from('AC123:tok').toString('base64')}`);
    const form = new URLSearchParams(s?.body);
    assert.deepEqual(Object.fromEntries(form), { To: '+821012345678', Body: '코드 123456', From: '+15005550006' });
  } finally {
    await api.close();
  }
});

test('twilio: a Messaging Service SID is sent as MessagingServiceSid', async () => {
  const api = await peer((_s, res) => res.writeHead(201).end('{"sid":"SM1"}'));
  try {
    const mg = `MG${'a'.repeat(32)}`;
    await createTwilioSmsSender({ accountSid: 'AC1', authToken: 't', from: mg, baseUrl: api.url }).send({ to: '+821012345678', text: 'x' });
    const form = new URLSearchParams(api.seen[0]?.body);
    assert.equal(form.get('MessagingServiceSid'), mg);
    assert.equal(form.get('From'), null);
  } finally {
    await api.close();
  }
});

test('twilio: an error answer keeps only the status and Twilio code, not the message text', async () => {
  const api = await peer((_s, res) =>
    res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":21211,"message":"The \'To\' number +821012345678 is not valid.","status":400}'));
  try {
    await rejectsProvider(createTwilioSmsSender({ accountSid: 'AC1', authToken: 't', from: '+1500', baseUrl: api.url }).send({ to: '+821012345678', text: 'x' }), 'http 400 (twilio 21211)');
  } finally {
    await api.close();
  }
});

test('console: prints a masked line, and the text only in development mode', async () => {
  const lines: string[] = [];
  await createConsoleSmsSender({ devMode: false, log: (l) => lines.push(l) }).send({ to: '+821012345678', text: 'code 123456' });
  await createConsoleSmsSender({ devMode: true, log: (l) => lines.push(l) }).send({ to: '+821012345678', text: 'code 654321' });
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.includes('+82 10-****-5678') && !l.includes('1012345678')));
  assert.ok(!lines[0]?.includes('123456'));
  assert.ok(lines[1]?.includes('code 654321'));
});

test('from env: console by default, http and twilio when configured, clear errors otherwise', () => {
  assert.equal(createSmsSenderFromEnv({}).name, 'console');
  assert.equal(createSmsSenderFromEnv({ SECUREKEY_SMS_PROVIDER: 'http', SECUREKEY_SMS_HTTP_URL: 'http://127.0.0.1:1/sms' }).name, 'http');
  assert.equal(createSmsSenderFromEnv({ SECUREKEY_SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+1' }).name, 'twilio');
  assert.throws(() => createSmsSenderFromEnv({ SECUREKEY_SMS_PROVIDER: 'http' }), /SECUREKEY_SMS_HTTP_URL/);
  assert.throws(() => createSmsSenderFromEnv({ SECUREKEY_SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC1' }), /TWILIO_AUTH_TOKEN, TWILIO_FROM/);
  assert.throws(() => createSmsSenderFromEnv({ SECUREKEY_SMS_PROVIDER: 'pigeon' }), /console, http or twilio/);
});

test('from env: the dev-mode flag reaches the console sender', async () => {
  const lines: string[] = [];
  await createSmsSenderFromEnv({ SECUREKEY_DEV_MODE: 'true' }, { log: (l) => lines.push(l) }).send({ to: '+821012345678', text: 'code 111222' });
  assert.ok(lines[0]?.includes('111222'));
});
