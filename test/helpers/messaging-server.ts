// A test server whose SMS go to a local HTTP gateway and whose email goes to a local SMTP server,
// with both peers, for tests that read the codes the way a user would receive them.
import { startTestServer, type TestServer, type TestServerOptions } from './server.ts';
import { startSmsGateway } from './sms-gateway.ts';
import { startSmtp } from './smtp.ts';

export type MessagingTestServer = {
  server: TestServer;
  gateway: Awaited<ReturnType<typeof startSmsGateway>>;
  smtp: Awaited<ReturnType<typeof startSmtp>>;
  /** Stops the server, then the peers. */
  stop: () => Promise<void>;
};

/** env is added to (and may override) the messaging settings. */
export const startMessagingTestServer = async (env: Record<string, string> = {}, opts: TestServerOptions = {}): Promise<MessagingTestServer> => {
  const gateway = await startSmsGateway();
  const smtp = await startSmtp();
  const closePeers = async () => {
    await gateway.close();
    await smtp.close();
  };
  let server: TestServer;
  try {
    server = await startTestServer({
      SECUREKEY_SMS_PROVIDER: 'http',
      SECUREKEY_SMS_HTTP_URL: gateway.url,
      SECUREKEY_SMTP_URL: smtp.url,
      SECUREKEY_EMAIL_FROM: 'no-reply@securekey.test',
      ...env,
    }, opts);
  } catch (err) {
    await closePeers();
    throw err;
  }
  return {
    server,
    gateway,
    smtp,
    stop: async () => {
      await server.stop();
      await closePeers();
    },
  };
};
