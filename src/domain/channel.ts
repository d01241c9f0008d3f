// The verification channels, declared once: policies name them, events carry them, webhooks and
// the audit trail report them.
export const CHANNELS = ['sms', 'email', 'totp', 'webauthn', 'push', 'recovery'] as const;
export type Channel = (typeof CHANNELS)[number];

/** The channels of one-time codes. */
export type OtpChannel = Extract<Channel, 'sms' | 'email'>;
