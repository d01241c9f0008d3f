// A local HTTP server playing the SMS gateway (SECUREKEY_SMS_PROVIDER=http): it keeps every {to, text}.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const startSmsCapture = async () => {
  const messages: { to: string; text: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      messages.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"msg_1"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`;
  return {
    url,
    messages,
    /** The code in the last message to this E.164 number. */
    lastCode: (to: string) => {
      const m = [...messages].reverse().find((x) => x.to === to);
      const code = m && /(\d{6})/.exec(m.text)?.[1];
      if (!code) throw new Error(`no code sent to ${to}`);
      return code;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
};
