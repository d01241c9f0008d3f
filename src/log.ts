// The server's logger. JSON lines by default, for log collectors: level names ("info"), ISO 8601
// times, one line per event. LOG_FORMAT=pretty is for a human at a terminal (pino-pretty,
// synchronous, colours on a TTY; loaded only then). Never keys, codes, secrets or destinations,
// in either format.
import { createRequire } from 'node:module';
import pino from 'pino';
import type { LogFormat } from './config.ts';

const require = createRequire(import.meta.url);

/** Pretty mode: a request reads "POST /api/v1/otp/send → 200 OK in 12 ms", its details after it on the same line. */
const prettyMessage = (log: Record<string, unknown>, key: string): string =>
  log[key] === 'request' ? `${log.http} → ${log.status}${log.code ? ` ${log.code}` : ''} in ${log.ms} ms` : String(log[key]);

// Asynchronous: a line is handed to the kernel by a write that does not block the event loop, and
// lines logged while one is in flight go out together in the next (no delay when idle); pino
// flushes what is pending synchronously when the process exits.
export const createLogger = (opts: { level: string; format: LogFormat }, destination: pino.DestinationStream = pino.destination({ dest: 1, sync: false })): pino.Logger => {
  const base = { level: opts.level, base: { service: 'securekey' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (opts.format === 'pretty') {
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    const stream = pretty({
      destination,
      sync: true,
      colorize: process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'service',
      singleLine: true,
      messageFormat: prettyMessage,
    });
    return pino(base, stream);
  }
  return pino({ ...base, formatters: { level: (label) => ({ level: label }) } }, destination);
};
