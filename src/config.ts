// One typed configuration, read from the environment and validated at start-up.
// Every setting is documented in the README's configuration table.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { privateDir } from './fs/private.ts';
import { join, resolve } from 'node:path';

/** Deadlines and caps on connections (enforced by src/api/server.ts). */
export type ConnectionLimits = {
  /** From the first byte of a connection (or of a request) until its headers are complete; also the
   * time an HTTP/2 client has to send its connection preface. */
  headersTimeoutMs: number;
  /** From the start of a request until its whole body has arrived (HTTP/1.1 and HTTP/2 streams). */
  requestTimeoutMs: number;
  /** HTTP/1.1: how long a kept-alive connection may wait for its next request. */
  keepAliveTimeoutMs: number;
  /** Nothing sent or received on a connection or HTTP/2 stream; an HTTP/2 session without streams. */
  idleTimeoutMs: number;
  /** Concurrent connections one client address may hold (0: no cap). */
  maxConnectionsPerClient: number;
  /** Concurrent streams per HTTP/2 session (SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxStreamsPerSession: number;
};

/** Proxies trusted to report the client address (read by src/api/client-address.ts). */
export type TrustProxy = {
  /** Trusted proxies in front of the server (0: none, use the socket address). */
  hops: number;
  /** The header those proxies append to. */
  header: 'x-forwarded-for' | 'forwarded';
};

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  /** Names this node's read-model file when several server processes share a data directory. */
  nodeId: string;
  /** "sqlite" (embedded, default) or a kurrentdb:// / esdb:// connection string. */
  eventStore: string;
  /** Guards /api/v1/admin and the AdminService; the admin API is disabled when empty. */
  adminToken: string;
  /** 32+ bytes; from SECUREKEY_MASTER_KEY (base64 or hex), else a key file created once in the data dir. */
  masterKey: Buffer;
  /** Public base URL (default http://localhost:PORT): default passkey RP id and origin, demo links. */
  publicUrl: string;
  /** Trusted proxies in front of the server and the header they append the client address to. */
  trustProxy: TrustProxy;
  /** Deadlines and caps on connections (see src/api/server.ts). */
  connections: ConnectionLimits;
  /** Serve the demo page at /demo/. */
  demo: boolean;
  /** Serve the operator console at /console/ (it needs SECUREKEY_ADMIN_TOKEN to sign in). */
  console: boolean;
  devMode: boolean;
  logLevel: string;
  /** "json" (default, for collectors) or "pretty" (for a human at a terminal). */
  logFormat: LogFormat;
  bodyLimitBytes: number;
  /** The limits model (src/api/admission.ts): requests per window and the window. */
  rateLimits: {
    unauthenticated: number;
    global: number;
    send: number;
    verify: number;
    perKey: number;
    windowSeconds: number;
    /** Counters held at once (memory bound, src/api/rate-limit.ts); anonymous callers may hold half. */
    maxKeys: number;
    /** The share of maxKeys (1-100 %) one tenant's callers and keys may hold. */
    tenantPercent: number;
  };
  /** Time a request waits for the read models to catch up with its own write. */
  readYourWritesTimeoutMs: number;
  shutdownGraceMs: number;
  webhooks: {
    timeoutMs: number;
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    /** Deliver to private, loopback and link-local addresses too (on-prem receivers, tests). */
    allowPrivate: boolean;
  };
  env: Record<string, string | undefined>;
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const int = (env: Record<string, string | undefined>, name: string, dflt: number, min = 0): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
};

const percent = (env: Record<string, string | undefined>, name: string, dflt: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new ConfigError(`${name} must be a whole percentage from 1 to 100, got "${raw}"`);
  return n;
};

const bool = (env: Record<string, string | undefined>, name: string, dflt: boolean): boolean => {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
};

/** A master key written as base64 or hex (64+ hex digits); at least 32 bytes. */
export const parseMasterKey = (raw: string): Buffer => {
  const key = /^[0-9a-f]+$/i.test(raw) && raw.length >= 64 ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length < 32) throw new ConfigError('SECUREKEY_MASTER_KEY must encode at least 32 bytes (base64 or hex)');
  return key;
};

/** The master key: from the environment, else from <dataDir>/master.key (created with mode 0600 on first use). */
export const loadMasterKey = (env: Record<string, string | undefined>, dataDir: string): Buffer => {
  if (env.SECUREKEY_MASTER_KEY) return parseMasterKey(env.SECUREKEY_MASTER_KEY);
  privateDir(dataDir);
  const file = join(dataDir, 'master.key');
  if (!existsSync(file)) {
    try {
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(file, 0o600);
  return parseMasterKey(readFileSync(file, 'utf8').trim());
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const oneOf = <T extends string>(env: Record<string, string | undefined>, name: string, allowed: readonly T[], dflt: T): T => {
  const raw = env[name] || dflt;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
};

const nodeId = (raw: string | undefined): string => {
  if (!raw) return '';
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(raw)) throw new ConfigError(`SECUREKEY_NODE_ID must be 1-32 letters, digits, _ or -, got "${raw}"`);
  return raw;
};

const publicUrl = (raw: string | undefined): string => {
  if (!raw) return '';
  try {
    const u = new URL(raw);
    if (!/^https?:$/.test(u.protocol)) throw new Error();
    return u.origin;
  } catch {
    throw new ConfigError(`SECUREKEY_PUBLIC_URL must be an http(s) URL, got "${raw}"`);
  }
};

/** SECUREKEY_TRUST_PROXY: false/0 (no proxy), true (one), or the number of proxies in front. */
const trustProxy = (env: Record<string, string | undefined>): TrustProxy => {
  const raw = env.SECUREKEY_TRUST_PROXY ?? '';
  const hops = /^\d+$/.test(raw) ? Number(raw) : bool(env, 'SECUREKEY_TRUST_PROXY', false) ? 1 : 0;
  if (hops > 10) throw new ConfigError(`SECUREKEY_TRUST_PROXY must be true, false or the number of proxies in front (0-10), got "${raw}"`);
  const header = (env.SECUREKEY_TRUST_PROXY_HEADER || 'x-forwarded-for').toLowerCase();
  if (header !== 'x-forwarded-for' && header !== 'forwarded') throw new ConfigError(`SECUREKEY_TRUST_PROXY_HEADER must be x-forwarded-for or forwarded, got "${header}"`);
  return { hops, header };
};

/** Rate-limit counters held at once by default, and the fewest a server may be given. */
export const DEFAULT_RATE_LIMIT_MAX_KEYS = 250_000;
export const MIN_RATE_LIMIT_MAX_KEYS = 100;

/** Defaults that protect without bothering a real client (docs/security.md). */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  maxConnectionsPerClient: 128,
  maxStreamsPerSession: 100,
});

const connections = (env: Record<string, string | undefined>, proxied: boolean): ConnectionLimits => {
  const d = DEFAULT_CONNECTION_LIMITS;
  const c: ConnectionLimits = {
    headersTimeoutMs: int(env, 'SECUREKEY_HEADERS_TIMEOUT_MS', d.headersTimeoutMs, 100),
    requestTimeoutMs: int(env, 'SECUREKEY_REQUEST_TIMEOUT_MS', d.requestTimeoutMs, 100),
    keepAliveTimeoutMs: int(env, 'SECUREKEY_KEEPALIVE_TIMEOUT_MS', d.keepAliveTimeoutMs, 100),
    idleTimeoutMs: int(env, 'SECUREKEY_IDLE_TIMEOUT_MS', d.idleTimeoutMs, 100),
    // Behind a proxy every connection comes from the proxy's address: no cap unless one is set.
    maxConnectionsPerClient: int(env, 'SECUREKEY_MAX_CONNECTIONS_PER_CLIENT', proxied ? 0 : d.maxConnectionsPerClient, 0),
    maxStreamsPerSession: int(env, 'SECUREKEY_H2_MAX_STREAMS', d.maxStreamsPerSession, 1),
  };
  if (c.headersTimeoutMs > c.requestTimeoutMs) {
    throw new ConfigError(`SECUREKEY_HEADERS_TIMEOUT_MS (${c.headersTimeoutMs}) must not exceed SECUREKEY_REQUEST_TIMEOUT_MS (${c.requestTimeoutMs}): headers are part of the request`);
  }
  return c;
};

/** This node's read models (SECUREKEY_NODE_ID names the file when several nodes share a data directory). */
export const readModelsPath = (config: Pick<Config, 'dataDir' | 'nodeId'>) => join(config.dataDir, config.nodeId ? `readmodels-${config.nodeId}.db` : 'readmodels.db');
/** The webhook deliveries every node of the data directory shares. */
export const webhooksDbPath = (config: Pick<Config, 'dataDir'>) => join(config.dataDir, 'webhooks.db');
/** The key store: the data keys of personal data and the root key, wrapped by the master key (docs/privacy.md). */
export const keyStorePath = (config: Pick<Config, 'dataDir'>) => join(config.dataDir, 'keys.db');
/** Snapshots of long streams (a sealed cache, checked against the log): each node its own. */
export const streamSnapshotsPath = (config: Pick<Config, 'dataDir' | 'nodeId'>) => join(config.dataDir, config.nodeId ? `snapshots-${config.nodeId}.db` : 'snapshots.db');

export const loadConfig = (env: Record<string, string | undefined> = process.env): Config => {
  const dataDir = resolve(env.SECUREKEY_DATA_DIR || './data');
  const eventStore = env.SECUREKEY_EVENTSTORE || 'sqlite';
  if (eventStore !== 'sqlite' && !/^(kurrentdb|kurrent|kdb|esdb)(\+discover)?:\/\//.test(eventStore)) {
    throw new ConfigError(`SECUREKEY_EVENTSTORE must be "sqlite" or a kurrentdb:// connection string, got "${eventStore.split('://')[0]}://..."`);
  }
  const adminToken = env.SECUREKEY_ADMIN_TOKEN ?? '';
  const proxy = trustProxy(env);
  if (adminToken && adminToken.length < 16) throw new ConfigError('SECUREKEY_ADMIN_TOKEN must be at least 16 characters');
  return {
    port: int(env, 'PORT', 8080),
    host: env.HOST || '0.0.0.0',
    dataDir,
    eventStore,
    nodeId: nodeId(env.SECUREKEY_NODE_ID),
    adminToken,
    masterKey: loadMasterKey(env, dataDir),
    publicUrl: publicUrl(env.SECUREKEY_PUBLIC_URL),
    trustProxy: proxy,
    connections: connections(env, proxy.hops > 0),
    demo: bool(env, 'SECUREKEY_DEMO', true),
    console: bool(env, 'SECUREKEY_CONSOLE', true),
    devMode: bool(env, 'SECUREKEY_DEV_MODE', false),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', LOG_FORMATS, 'json'),
    bodyLimitBytes: int(env, 'SECUREKEY_BODY_LIMIT_BYTES', 64 * 1024, 1024),
    rateLimits: {
      unauthenticated: int(env, 'SECUREKEY_RATE_LIMIT_UNAUTHENTICATED', 20, 1),
      global: int(env, 'SECUREKEY_RATE_LIMIT_GLOBAL', 100, 1),
      send: int(env, 'SECUREKEY_RATE_LIMIT_SEND', 3, 1),
      verify: int(env, 'SECUREKEY_RATE_LIMIT_VERIFY', 10, 1),
      perKey: int(env, 'SECUREKEY_RATE_LIMIT_PER_KEY', 1000, 1),
      windowSeconds: int(env, 'SECUREKEY_RATE_LIMIT_WINDOW_SECONDS', 60, 1),
      // About 250 bytes each: the default bounds them near 60 MB (docs/operations.md#memory).
      maxKeys: int(env, 'SECUREKEY_RATE_LIMIT_MAX_KEYS', DEFAULT_RATE_LIMIT_MAX_KEYS, MIN_RATE_LIMIT_MAX_KEYS),
      tenantPercent: percent(env, 'SECUREKEY_RATE_LIMIT_TENANT_PERCENT', 50),
    },
    readYourWritesTimeoutMs: int(env, 'SECUREKEY_RYW_TIMEOUT_MS', 5000, 0),
    shutdownGraceMs: int(env, 'SECUREKEY_SHUTDOWN_GRACE_MS', 10000, 0),
    webhooks: {
      timeoutMs: int(env, 'SECUREKEY_WEBHOOK_TIMEOUT_MS', 10_000, 100),
      maxAttempts: int(env, 'SECUREKEY_WEBHOOK_MAX_ATTEMPTS', 12, 1),
      backoffBaseMs: int(env, 'SECUREKEY_WEBHOOK_BACKOFF_BASE_MS', 5_000, 10),
      backoffMaxMs: int(env, 'SECUREKEY_WEBHOOK_BACKOFF_MAX_MS', 3_600_000, 10),
      allowPrivate: bool(env, 'SECUREKEY_WEBHOOK_ALLOW_PRIVATE', false),
    },
    env,
  };
};

/** Where the event store is, for people: the SQLite file, or the KurrentDB scheme and hosts
 * without credentials or options. */
export const describeStore = (config: Pick<Config, 'eventStore' | 'dataDir'>): string => {
  if (config.eventStore === 'sqlite') return `sqlite (${join(config.dataDir, 'events.db')})`;
  const m = /^([a-z+]+:\/\/)(?:[^@/]*@)?([^/?]*)/i.exec(config.eventStore);
  return m ? `${m[1]}${m[2]}` : 'kurrentdb';
};
