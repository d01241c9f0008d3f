export type { SmsMessage, SmsSender } from './port.ts';
export { ProviderError, deliveryFailureReason } from './provider-error.ts';
export { createConsoleSmsSender } from './console.ts';
export { createHttpSmsSender } from './http.ts';
export { createTwilioSmsSender, type TwilioSmsOptions } from './twilio.ts';
export { createSmsSenderFromEnv, type SenderEnv } from './from-env.ts';
