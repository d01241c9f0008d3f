// A real SMTP server (smtp-server) on a loopback port; every message is parsed with mailparser.
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export type ReceivedMail = { rcptTo: string[]; mail: ParsedMail };

export const startSmtp = async () => {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((mail) => {
          received.push({ rcptTo: session.envelope.rcptTo.map((r) => r.address), mail });
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
};

/** The code in a mail's text part and in its HTML part (both must hold the same one). */
export const mailCodes = (mail: ParsedMail): { text: string; html: string } => {
  const text = /(?:인증번호는|code is) (\d{4,10})/.exec(mail.text ?? '')?.[1];
  const html = /<strong[^>]*>(\d{4,10})<\/strong>/.exec(String(mail.html))?.[1];
  if (!text || !html) throw new Error('no code in the mail');
  return { text, html };
};
