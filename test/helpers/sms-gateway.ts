// A real HTTP SMS gateway on a loopback port: it keeps every {to, text} the server POSTs to it
// (the http SMS sender's wire format) and can be told to refuse messages.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export type GatewayMessage = { to: string; text: string; headers: IncomingMessage['headers'] };

export const startSmsGateway = async () => {
  const messages: GatewayMessage[] = [];
  let failWith = 0;
  let seq = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failWith) {
        res.writeHead(failWith, { 'content-type': 'application/json' }).end('{"error":"refused"}');
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { to: string; text: string };
      messages.push({ to: body.to, text: body.text, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `msg-${++seq}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`;
  return {
    url,
    messages,
    /** Answer every later message with this HTTP status (0: accept again). */
    failWith: (status: number) => void (failWith = status),
    /** The code in the latest text sent to `to` (E.164). */
    lastCode: (to: string) => smsCode([...messages].reverse().find((m) => m.to === to)?.text ?? ''),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
};

/** The code in an SMS text (ko "인증번호는 123456 입니다", en "code is 123456"). */
export const smsCode = (text: string): string => {
  const m = /(?:인증번호는|code is) (\d{4,10})/.exec(text);
  if (!m) throw new Error('no code in the SMS text');
  return m[1] as string;
};
