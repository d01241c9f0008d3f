// @secondkey/node — the SecureKey client (zero runtime dependencies) and, for Node, the webhook
// signature helpers. In browsers and edge runtimes the package resolves to universal.ts.
export * from './universal.ts';
export { verifyWebhook, verifyWebhookSignature, verifyWebhookSignatureV2, WebhookVerificationError, type WebhookPayload } from './webhook.ts';
