// Starts a real SecureKey server on a random loopback port with its own temp data directory.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startSecureKey, type StartOptions } from '../../src/securekey.ts';
import { personalFor } from './privacy.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

export type TestServerOptions = Pick<StartOptions, 'wrapStore' | 'now' | 'newId' | 'wrapProjection' | 'projectionRetry' | 'retentionEveryMs' | 'metricsSampleMs' | 'snapshotMinEvents'> & { dataDir?: string; keepData?: boolean; logLevel?: string };

export const startTestServer = async (env: Record<string, string> = {}, opts: TestServerOptions = {}) => {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'securekey-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SECUREKEY_DATA_DIR: dataDir,
    SECUREKEY_ADMIN_TOKEN: ADMIN_TOKEN,
    SECUREKEY_MASTER_KEY: randomBytes(32).toString('base64'),
    // Generous limits: tests that are about limits set their own.
    SECUREKEY_RATE_LIMIT_GLOBAL: '100000',
    SECUREKEY_RATE_LIMIT_SEND: '100000',
    SECUREKEY_RATE_LIMIT_VERIFY: '100000',
    SECUREKEY_RATE_LIMIT_UNAUTHENTICATED: '100000',
    SECUREKEY_RATE_LIMIT_PER_KEY: '100000',
    SECUREKEY_SHUTDOWN_GRACE_MS: '2000',
    // Webhook receivers in tests listen on loopback: the operator switch for private targets.
    SECUREKEY_WEBHOOK_ALLOW_PRIVATE: 'true',
    ...env,
  });
  const logs: string[] = [];
  // The production logger (JSON lines), captured.
  const logger = createLogger({ level: opts.logLevel ?? 'info', format: 'json' }, { write: (line: string) => void logs.push(line) });
  const { dataDir: _d, keepData: _k, logLevel: _l, ...start } = opts;
  const running = await startSecureKey(config, { logger, ...start });
  const url = `http://127.0.0.1:${running.port}`;

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { 'content-type': 'application/json', 'x-admin-token': ADMIN_TOKEN },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const createTenant = async (name = 'acme', extra: Record<string, unknown> = {}) => {
    const r = await admin('POST', '/api/v1/admin/tenants', { name, ...extra });
    if (r.status !== 200) throw new Error(`create tenant failed: ${JSON.stringify(r.body)}`);
    return r.body.data as { tenantId: string; apiKey: string; keyId: string; webhookSecret: string };
  };
  const readLog = <T>(read: (db: DatabaseSync) => T): T => {
    const db = new DatabaseSync(join(dataDir, 'events.db'), { readOnly: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  };
  /** The event log as stored (read-only), after `afterPosition`. */
  const events = (afterPosition = 0) =>
    readLog((db) => db.prepare('SELECT position, stream, type, data, metadata FROM events WHERE position > ? ORDER BY position').all(afterPosition) as { position: number; stream: string; type: string; data: string; metadata: string }[])
      .map((r) => ({ position: r.position, stream: r.stream, type: r.type, data: JSON.parse(r.data) as Record<string, any>, metadata: JSON.parse(r.metadata) as Record<string, any> }));
  /** The events after `afterPosition` with their personal values (user ids, client addresses)
   * opened, as the server reads them: with its key store and master key. */
  const opened = (afterPosition = 0) => {
    const p = personalFor({ keyStorePath: join(dataDir, 'keys.db'), masterKey: config.masterKey });
    try {
      return readLog((db) => db.prepare('SELECT id, position, type, data, metadata FROM events WHERE position > ? ORDER BY position').all(afterPosition) as { id: string; position: number; type: string; data: string; metadata: string }[]).map((r) =>
        p.personal.open({ id: r.id, position: r.position, type: r.type, data: JSON.parse(r.data) as Record<string, any>, metadata: JSON.parse(r.metadata) as Record<string, any> }),
      );
    } finally {
      p.keyStore.close();
    }
  };
  /** The position of the last stored event (0: none). */
  const head = () => readLog((db) => (db.prepare('SELECT coalesce(max(position), 0) AS p FROM events').get() as { p: number }).p);
  return {
    url,
    port: running.port,
    events,
    opened,
    head,
    dataDir,
    config,
    logs,
    post,
    admin,
    createTenant,
    /** POST with the tenant's key. */
    call: (apiKey: string, path: string, body: unknown) => post(path, body, { 'x-api-key': apiKey }),
    stop: async () => {
      await running.stop();
      if (!opts.keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
