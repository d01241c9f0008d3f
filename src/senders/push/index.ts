export type { PushLog, PushMessage, PushSender, PushSendResult } from './port.ts';
export { createConsoleSender } from './console.ts';
export { createFcmSender, toFcmMessage, type FcmSenderOptions } from './fcm.ts';
export { createPushSenderFromEnv, type PushEnv } from './from-env.ts';
