export type { EmailMessage, EmailSender } from './port.ts';
export { createConsoleEmailSender } from './console.ts';
export { createSmtpEmailSender } from './smtp.ts';
export { createEmailSenderFromEnv } from './from-env.ts';
