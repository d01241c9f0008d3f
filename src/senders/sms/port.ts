// The SMS sender port. Adapters: console (default), http (generic gateway), twilio.

export type SmsMessage = {
  /** E.164. */
  to: string;
  text: string;
};

export type SmsSender = {
  /** Recorded with the delivery outcome ("console", "http", "twilio"). */
  readonly name: string;
  /** Resolves when the provider accepted the message; throws (ProviderError) when it did not. */
  send: (msg: SmsMessage) => Promise<{ providerId?: string }>;
};
