// Development sender: logs the data payload (request id, title, number choices) instead of
// sending. The device token is never logged.
import type { PushLog, PushMessage, PushSender, PushSendResult } from './port.ts';

export const createConsoleSender = (opts: { log?: PushLog } = {}): PushSender => {
  const emit = (msg: PushMessage): PushSendResult => {
    const data = { ...msg.data, ttlSeconds: msg.ttlSeconds };
    if (opts.log) opts.log.info({ push: data }, 'push (console sender): not sent to a device');
    else process.stdout.write(`push (console sender): ${JSON.stringify(data)}\n`);
    return { ok: true };
  };
  return {
    name: 'console',
    send: async (msg) => emit(msg),
    sendEach: async (msgs) => msgs.map(emit),
    close: async () => {},
  };
};
