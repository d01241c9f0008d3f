// Prints a masked line per message; the text (with the code) only in development mode.
import { maskE164 } from '../../domain/destination.ts';
import type { SmsSender } from './port.ts';

export const createConsoleSmsSender = (opts: { devMode: boolean; log?: (line: string) => void }): SmsSender => {
  const log = opts.log ?? ((line: string) => console.log(line));
  return {
    name: 'console',
    send: async ({ to, text }) => {
      log(opts.devMode ? `[sms:console] to ${maskE164(to)}: ${text}` : `[sms:console] to ${maskE164(to)} (${text.length} chars; text shown in development mode only)`);
      return {};
    },
  };
};
