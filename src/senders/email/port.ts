// The email sender port. Adapters: console (default), smtp (nodemailer).

export type EmailMessage = {
  to: string;
  subject: string;
  text: string;
  html: string;
};

export type EmailSender = {
  /** Recorded with the delivery outcome ("console", "smtp"). */
  readonly name: string;
  /** Resolves when the server accepted the message; throws (ProviderError) when it did not. */
  send: (msg: EmailMessage) => Promise<{ providerId?: string }>;
};
