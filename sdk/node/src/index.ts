// securekey/client — the Node SDK. Zero runtime dependencies (global fetch, node:crypto).
export { TwoFactorClient, type SmsApi, type EmailApi, type TotpApi, type WebAuthnApi, type PushApi } from './client.ts';
export { SecureKeyError, type SecureKeyErrorInit } from './errors.ts';
export type { ClientOptions } from './transport.ts';
export type * from './types.ts';
export { verifyWebhookSignature, verifyWebhookSignatureV2 } from './webhook.ts';
