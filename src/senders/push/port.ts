// The push sender port. Adapters: fcm.ts (firebase-admin, FCM HTTP v1), console.ts (development).

/** One data message to one device. `data` values are strings (FCM data payloads are string maps). */
export type PushMessage = {
  token: string;
  data: Record<string, string>;
  title: string;
  body: string;
  /** Remaining lifetime of the request: the message is useless after it. */
  ttlSeconds: number;
};

/** stale: the token is dead (unregistered/invalid) and the device should stop receiving pushes.
 * reason is a short provider code (e.g. "registration-token-not-registered"), never the token. */
export type PushSendResult = { ok: true } | { ok: false; stale: boolean; reason: string };

export type PushSender = {
  readonly name: string;
  send: (msg: PushMessage) => Promise<PushSendResult>;
  /** One result per message, in order. One message's failure never affects the others. */
  sendEach: (msgs: PushMessage[]) => Promise<PushSendResult[]>;
  close: () => Promise<void>;
};

/** A minimal structural logger (pino's Logger satisfies it). */
export type PushLog = {
  info: (obj: object, msg?: string) => void;
  warn: (obj: object, msg?: string) => void;
  error: (obj: object, msg?: string) => void;
};
