// Real local peers for the SDK suites (test/sdk-*.test.ts, test/interop-grpc.test.ts):
// - an SMS gateway for SECUREKEY_SMS_PROVIDER=http that records {to, text};
// - an SMTP server (smtp-server + mailparser) for SECUREKEY_SMTP_URL that records the mails;
// - a stand-in browser holding a software passkey (test/fixtures/webauthn-authenticator.ts);
// - a webhook receiver (POST /webhook) that records the raw body and headers;
// - an HTTP "outbox" on the gateway's port so that a non-Node test (Python) can read the codes
//   and webhooks and use the browser: GET /outbox/code?to=..., GET /outbox/messages?to=...,
//   GET /outbox/webhooks, POST /browser/create|get {publicKey}.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSoftAuthenticator } from '../../../test/fixtures/webauthn-authenticator.ts';
import { startSmtp } from '../../../test/helpers/smtp.ts';

export const RP_ID = 'example.test';
export const ORIGIN = 'https://app.example.test';
/** Tenant settings that make the soft authenticator's origin acceptable. */
export const WEBAUTHN_SETTINGS = { webauthnRpId: RP_ID, webauthnOrigins: [ORIGIN] };

export type Message = { to: string; text: string };

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const bytes = (b64url: string): ArrayBuffer => {
  const b = Buffer.from(b64url, 'base64url');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};

/** An object like the browser's platform objects: data behind prototype getters, so JSON.stringify gives {}. */
const platformObject = (getters: Record<string, () => unknown>, methods: Record<string, () => unknown> = {}): object => {
  const proto: object = {};
  for (const [k, get] of Object.entries(getters)) Object.defineProperty(proto, k, { get, enumerable: false });
  for (const [k, fn] of Object.entries(methods)) Object.defineProperty(proto, k, { value: fn, enumerable: false });
  return Object.create(proto) as object;
};

type CredentialJson = { id: string; rawId: string; type: string; authenticatorAttachment?: string; response: object };

/** What navigator.credentials.create/get resolve to: a PublicKeyCredential-like object with ArrayBuffers. */
export const asBrowserCredential = (c: CredentialJson) => {
  const r = c.response as Record<string, unknown>;
  const responseGetters: Record<string, () => unknown> = {};
  for (const k of ['clientDataJSON', 'attestationObject', 'authenticatorData', 'signature', 'userHandle']) {
    if (typeof r[k] === 'string') responseGetters[k] = () => bytes(r[k] as string);
  }
  const response = platformObject(responseGetters, Array.isArray(r.transports) ? { getTransports: () => r.transports } : {});
  return platformObject(
    { id: () => c.id, rawId: () => bytes(c.rawId), type: () => c.type, response: () => response, authenticatorAttachment: () => c.authenticatorAttachment ?? null },
    { getClientExtensionResults: () => ({}) },
  ) as { id: string; rawId: ArrayBuffer; type: string; response: object };
};

export const startPeers = async () => {
  const sms: Message[] = [];
  const webhooks: { raw: string; headers: IncomingMessage['headers'] }[] = [];
  const authenticator = createSoftAuthenticator({ origin: ORIGIN });

  const smtp = await startSmtp();
  const mail = (): Message[] => smtp.received.flatMap((r) => r.rcptTo.map((to) => ({ to, text: r.mail.text ?? '' })));

  const lastCode = (to: string): string => {
    const m = [...sms, ...mail()].reverse().find((x) => x.to.toLowerCase() === to.toLowerCase());
    const code = m && /\b(\d{6})\b/.exec(m.text)?.[1];
    if (!code) throw new Error(`no code was sent to ${to}`);
    return code;
  };

  const http = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    try {
      const raw = req.method === 'POST' ? await readBody(req) : '';
      if (req.method === 'POST' && url.pathname === '/webhook') {
        webhooks.push({ raw, headers: req.headers });
        return reply(200, {});
      }
      if (url.pathname === '/outbox/webhooks') return reply(200, { webhooks });
      const body = raw ? JSON.parse(raw) : {};
      if (req.method === 'POST' && url.pathname === '/sms') {
        sms.push({ to: String(body.to), text: String(body.text) });
        return reply(200, { id: `sms_${sms.length}` });
      }
      if (url.pathname === '/outbox/code') return reply(200, { code: lastCode(url.searchParams.get('to') ?? '') });
      if (url.pathname === '/outbox/messages') {
        const to = (url.searchParams.get('to') ?? '').toLowerCase();
        return reply(200, { messages: [...sms, ...mail()].filter((m) => m.to.toLowerCase() === to) });
      }
      if (url.pathname === '/browser/create') return reply(200, authenticator.register(body.publicKey, { origin: ORIGIN }));
      if (url.pathname === '/browser/get') return reply(200, authenticator.authenticate(body.publicKey, { origin: ORIGIN }));
      return reply(404, { error: 'not found' });
    } catch (err) {
      return reply(400, { error: (err as Error).message });
    }
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  return {
    sms,
    /** The mails received, one entry per recipient. */
    get mail() {
      return mail();
    },
    authenticator,
    /** The last 6-digit code sent to a phone (E.164) or an email address. */
    lastCode,
    /** Webhook deliveries received at `${outboxUrl}/webhook`: the raw body and the headers. */
    webhooks,
    /** The outbox and browser endpoints, for tests in other languages. */
    outboxUrl: httpUrl,
    /** navigator as the seed's browser code uses it. */
    navigator: {
      credentials: {
        create: async ({ publicKey }: { publicKey: any }) => asBrowserCredential(authenticator.register(publicKey, { origin: ORIGIN })),
        get: async ({ publicKey }: { publicKey: any }) => asBrowserCredential(authenticator.authenticate(publicKey, { origin: ORIGIN })),
      },
    },
    /** Server env that sends SMS and email to these peers. */
    env: {
      SECUREKEY_SMS_PROVIDER: 'http',
      SECUREKEY_SMS_HTTP_URL: `${httpUrl}/sms`,
      SECUREKEY_SMTP_URL: smtp.url,
      SECUREKEY_EMAIL_FROM: 'SecureKey <no-reply@securekey.test>',
    },
    close: async () => {
      await new Promise<void>((r) => {
        http.close(() => r());
        http.closeAllConnections();
      });
      await smtp.close();
    },
  };
};
