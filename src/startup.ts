// What an operator reads when the server starts: where it listens (URLs to paste), which store
// it uses; and, when it cannot start, one sentence instead of a stack trace.
import { networkInterfaces } from 'node:os';
import { ConfigError, describeStore, type Config } from './config.ts';
import { KeyStoreMissingError, WrongMasterKeyError } from './privacy/vault.ts';

/** URLs a client on this machine or the network can use: localhost, plus this host's addresses when listening on all of them. */
export const listenUrls = (host: string, port: number): string[] => {
  const url = (h: string) => `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
  if (host !== '0.0.0.0' && host !== '::') return [url(host === '127.0.0.1' || host === '::1' ? 'localhost' : host)];
  const external = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && a.family === 'IPv4')
    .map((a) => url(a!.address));
  return [url('localhost'), ...external];
};

/** The "listening" log line: message and fields. */
export const listeningLine = (config: Config, port: number, publicUrl: string, stdoutIsTty: boolean) => {
  const urls = listenUrls(config.host, port);
  return {
    fields: {
      port,
      urls,
      api: `${publicUrl}/api/v1`,
      openapi: `${publicUrl}/api/v1/openapi.json`,
      ...(config.demo ? { demo: `${publicUrl}/demo/` } : {}),
      ...(config.console ? { console: `${publicUrl}/console/` } : {}),
      store: describeStore(config),
      dataDir: config.dataDir,
      ...(stdoutIsTty && config.logFormat === 'json' ? { hint: 'LOG_FORMAT=pretty for human-readable logs' } : {}),
    },
    msg: `SecureKey listening on ${urls.join(', ')} (REST, gRPC, gRPC-Web and Connect on one port)`,
  };
};

/** A start-up failure an operator can fix, as one sentence; undefined for anything else (a bug: keep the stack). */
export const startFailure = (err: unknown, config: Pick<Config, 'host' | 'port'> | undefined): string | undefined => {
  if (err instanceof ConfigError) return `configuration error: ${err.message}`;
  if (err instanceof WrongMasterKeyError || err instanceof KeyStoreMissingError) return `cannot start: ${err.message}`;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = config ? `port ${config.port} on ${config.host}` : 'the port';
  if (code === 'EADDRINUSE') return `cannot listen: ${where} is already in use (another SecureKey or another program). Stop it, or choose another port: PORT=${(config?.port ?? 8080) + 1} npm start`;
  if (code === 'EACCES') return `cannot listen: no permission to use ${where} (ports below 1024 need privileges). Choose another port, e.g. PORT=8080`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen: HOST ${config?.host} is not an address of this machine. Use HOST=0.0.0.0 (all addresses) or HOST=127.0.0.1`;
  return undefined;
};
