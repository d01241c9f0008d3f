// FCM (HTTP v1) through firebase-admin. A data message carries everything the app needs; iOS also
// gets an alert (APNs drops silent high-priority pushes), Android high priority, all with
// TTL = the request's remaining lifetime. Per-device errors are classified: a dead token (stale)
// versus anything else. Tokens and provider messages (which may quote a token) are never logged.
import type { Agent } from 'node:http';
import { randomUUID } from 'node:crypto';
import { type App, type Credential, applicationDefault, deleteApp, initializeApp } from 'firebase-admin/app';
import { type Message, getMessaging } from 'firebase-admin/messaging';
import type { PushLog, PushMessage, PushSender, PushSendResult } from './port.ts';

export type FcmSenderOptions = {
  projectId: string;
  /** Defaults to Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS). */
  credential?: Credential;
  /** An agent for every FCM and token request (proxy, tests). */
  httpAgent?: Agent;
  /** HTTP/1.1 transport for sendEach (the HTTP/2 one ignores httpAgent). Default: true when httpAgent is given. */
  legacyHttpTransport?: boolean;
  log?: PushLog;
  /** Clock for the APNs expiration header (epoch ms). */
  now?: () => number;
};

/** Tokens FCM will never deliver to again. */
const STALE_CODES = new Set(['messaging/registration-token-not-registered', 'messaging/invalid-registration-token']);

const classify = (error: { code?: string; message?: string } | undefined): PushSendResult => {
  const code = error?.code ?? 'unknown-error';
  // INVALID_ARGUMENT is also what FCM answers for a malformed token; only then is the device stale.
  const stale = STALE_CODES.has(code) || (code === 'messaging/invalid-argument' && /registration token/i.test(error?.message ?? ''));
  return { ok: false, stale, reason: code.replace(/^messaging\//, '') };
};

export const toFcmMessage = (msg: PushMessage, nowMs: number): Message => {
  const ttl = Math.max(1, Math.floor(msg.ttlSeconds));
  return {
    token: msg.token,
    data: msg.data,
    android: { priority: 'high', ttl: ttl * 1000 },
    apns: {
      headers: { 'apns-priority': '10', 'apns-push-type': 'alert', 'apns-expiration': String(Math.floor(nowMs / 1000) + ttl) },
      payload: { aps: { alert: { title: msg.title, body: msg.body }, sound: 'default', mutableContent: true, category: 'SECUREKEY_PUSH_APPROVAL' } },
    },
    webpush: { headers: { TTL: String(ttl), Urgency: 'high' } },
  };
};

export const createFcmSender = (opts: FcmSenderOptions): PushSender => {
  if (!opts.projectId) throw new Error('createFcmSender: projectId is required');
  const now = opts.now ?? Date.now;
  const app: App = initializeApp(
    { projectId: opts.projectId, credential: opts.credential ?? applicationDefault(opts.httpAgent), ...(opts.httpAgent ? { httpAgent: opts.httpAgent } : {}) },
    `securekey-fcm-${randomUUID()}`,
  );
  const messaging = getMessaging(app);
  if (opts.legacyHttpTransport ?? Boolean(opts.httpAgent)) messaging.enableLegacyHttpTransport();

  const sendEach = async (msgs: PushMessage[]): Promise<PushSendResult[]> => {
    if (!msgs.length) return [];
    const t = now();
    try {
      const res = await messaging.sendEach(msgs.map((m) => toFcmMessage(m, t)));
      return res.responses.map((r) => (r.success ? { ok: true as const } : classify(r.error)));
    } catch (err) {
      // The batch as a whole failed (credentials, network): nothing is known about the tokens.
      const code = (err as { code?: string }).code ?? 'unavailable';
      opts.log?.error({ provider: 'fcm', code, count: msgs.length }, 'FCM send failed');
      return msgs.map(() => ({ ok: false as const, stale: false, reason: code.replace(/^(messaging|app)\//, '') }));
    }
  };

  return {
    name: 'fcm',
    sendEach,
    send: async (msg) => (await sendEach([msg]))[0]!,
    close: () => deleteApp(app),
  };
};
