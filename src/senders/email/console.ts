// Prints a masked line per message; subject and text (with the code) only in development mode.
import { maskEmail } from '../../domain/destination.ts';
import type { EmailSender } from './port.ts';

export const createConsoleEmailSender = (opts: { devMode: boolean; log?: (line: string) => void }): EmailSender => {
  const log = opts.log ?? ((line: string) => console.log(line));
  return {
    name: 'console',
    send: async ({ to, subject, text }) => {
      log(opts.devMode ? `[email:console] to ${maskEmail(to)}: ${subject}\n${text}` : `[email:console] to ${maskEmail(to)} (text shown in development mode only)`);
      return {};
    },
  };
};
