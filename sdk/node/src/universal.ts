// Everything that runs wherever `fetch` exists (Node ≥ 18, browsers, edge runtimes): the client
// and its error. No Node built-in is imported from here; the webhook helpers (node:crypto) are
// in the package's main entry for Node and in '@secondkey/node/webhooks'.
export { TwoFactorClient, type SmsApi, type EmailApi, type TotpApi, type RecoveryApi, type WebAuthnApi, type PushApi } from './client.ts';
export { SecureKeyError, type SecureKeyErrorInit } from './errors.ts';
export type { ClientOptions } from './transport.ts';
export type * from './types.ts';
