// Composition root: reads config, wires the store, projections, services and the server.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { createTenantService } from './app/tenants.ts';
import { createKeyring } from './crypto/keyring.ts';
import { loadConfig, readModelsPath, webhooksDbPath, type Config } from './config.ts';
import { createLogger } from './log.ts';
import { listeningLine, startFailure } from './startup.ts';
import { openStore } from './eventstore/open.ts';
import { createApp } from './api/app.ts';
import { serviceOf } from './api/registry.ts';
import { createMetrics, instrumentStore } from './api/metrics.ts';
import { createReadinessCheck, lagUnitOf } from './api/readiness.ts';
import { createRateLimiter } from './api/rate-limit.ts';
import { startServer } from './api/server.ts';
import type { PipelineDeps } from './api/pipeline.ts';
import { createAdminImpl } from './api/services/admin.ts';
import { createOtpStatsImpl } from './api/services/admin-stats.ts';
import { createDemoRoute } from './api/demo.ts';
import { AdminService } from './gen/securekey/v1/admin_pb.js';
import { createProjectionRunner, openReadModelDb, type Projection } from '../projections/runtime.ts';
import { StoreUnavailableError, type EventStore } from './eventstore/port.ts';
import { tenantsProjection } from '../projections/tenants/index.ts';
import { createMfaVerificationsProjection, verifiedChannelsReader } from '../projections/mfa-verifications/index.ts';
import { createPolicyService } from './app/policy.ts';
import { createPushService } from './app/push.ts';
import { createTotpService } from './app/totp.ts';
import { createWebAuthnService } from './app/webauthn.ts';
import { createPushSenderFromEnv } from './senders/push/index.ts';
import type { ChannelDeps } from './api/services/common.ts';
import { createPushImpl } from './api/services/push.ts';
import { createEmailOtpImpl, createSmsOtpImpl } from './api/services/otp.ts';
import { createOtpService } from './app/otp.ts';
import { createSmsSenderFromEnv } from './senders/sms/index.ts';
import { createEmailSenderFromEnv } from './senders/email/index.ts';
import { EmailOtpService, SmsOtpService } from './gen/securekey/v1/otp_pb.js';
import { createOtpCountersFromDb, otpCountersProjection } from '../projections/otp-counters/index.ts';
import { otpStatsProjection } from '../projections/otp-stats/index.ts';
import { auditProjection } from '../projections/audit/index.ts';
import { webhooksProjection } from '../projections/webhooks/index.ts';
import { startWebhookDelivery } from './webhooks/delivery.ts';
import { createTotpImpl } from './api/services/totp.ts';
import { createWebAuthnImpl } from './api/services/webauthn.ts';
import { PushService } from './gen/securekey/v1/push_pb.js';
import { TotpService } from './gen/securekey/v1/totp_pb.js';
import { WebAuthnService } from './gen/securekey/v1/webauthn_pb.js';
import type { Keyring } from './crypto/keyring.ts';
import { type NewId, randomId } from './app/ids.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** Webhook deliveries live in one database shared by every node of a data directory, so that
 * whichever node delivers sees what was already delivered. */
export const sharedProjections: Projection[] = [webhooksProjection];

/** This node's read models (SECUREKEY_NODE_ID names their file): the server runs them and replay rebuilds them. */
export const allProjections = (keyring: Keyring): Projection[] => [
  tenantsProjection,
  auditProjection,
  otpCountersProjection,
  otpStatsProjection,
  createMfaVerificationsProjection({ userKeyOf: (userId) => keyring.hmac('user', userId) }),
];

export type Running = { port: number; stop: () => Promise<void>; config: Config };

export type StartOptions = {
  logger?: Logger;
  /** Epoch ms for every decision, limit, lease and expiry (default Date.now): tests move it forward. */
  now?: () => number;
  /** Ids of created tenants, keys, codes, push requests and devices (default randomId). */
  newId?: NewId;
  /** Tests: wrap the store (e.g. to inject faults). */
  wrapStore?: (store: EventStore) => EventStore;
};

/** Everything but the listening socket: the store, read models, webhook delivery and the typed
 * services with their pipeline. startSecureKey serves them; tests may call them in process. */
export const composeSecureKey = async (config: Config, opts: StartOptions = {}) => {
  const logger = opts.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const now = opts.now ?? Date.now;
  const newId = opts.newId ?? randomId;
  const keyring = createKeyring(config.masterKey);
  let runnerRef: { lag: () => Promise<Record<string, number>> } | undefined;
  let inFlight = () => 0;
  const metrics = createMetrics({ projectionLag: () => runnerRef?.lag() ?? Promise.resolve({}), lagUnit: lagUnitOf(config.eventStore), inFlight: () => inFlight() });
  const rawStore = await openStore(config);
  const store = instrumentStore(opts.wrapStore ? opts.wrapStore(rawStore) : rawStore, metrics);

  // Each node builds its own read models (SECUREKEY_NODE_ID names the file when several share a data dir).
  const readDb = openReadModelDb(readModelsPath(config));
  const onProjectionError = (name: string, err: unknown) =>
    name === '*'
      ? logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'projections: store error, retrying with backoff')
      : logger.error({ projection: name, err }, 'projection failed; it stops advancing until fixed');
  const runner = createProjectionRunner({
    store,
    db: readDb,
    projections: allProjections(keyring),
    onError: onProjectionError,
  });
  const webhookDb = openReadModelDb(webhooksDbPath(config));
  const webhookRunner = createProjectionRunner({ store, db: webhookDb, projections: sharedProjections, onError: onProjectionError });
  runnerRef = { lag: async () => ({ ...(await runner.lag()), ...(await webhookRunner.lag()) }) };
  for (const r of [runner, webhookRunner]) {
    try {
      await r.start(); // catch up before serving, so that keys and settings are current
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      // Start anyway: /readyz says not ready, calls answer 503, and the runner keeps retrying.
      logger.warn({ err: err.message }, 'event store unavailable at start-up; serving 503 until it is back');
    }
  }
  const webhooks = startWebhookDelivery({ config, db: webhookDb, keyring, now, logger, settle: (p) => webhookRunner.waitFor(p, 5000) });

  const settle = async (position: number) => {
    if (position > 0) await runner.waitFor(position, config.readYourWritesTimeoutMs);
  };
  const tenants = createTenantService({ store, keyring, now, newId });
  const policies = createPolicyService({ store, now });
  const userKeyOf = (userId: string) => keyring.hmac('user', userId);
  let publicUrl = config.publicUrl;
  const channel: ChannelDeps = {
    settle,
    settleHead: async () => settle(await store.headPosition()),
    mfaGate: async (caller, v) => {
      await policies.check(caller.tenantId, { userId: v.userId, purpose: v.purpose, channel: v.channel, verifiedChannelsSince: verifiedChannelsReader(readDb, caller.tenantId, userKeyOf) });
    },
    get publicUrl() {
      return publicUrl;
    },
  };
  const pushSender = createPushSenderFromEnv(config.env, { log: logger });
  // Abuse counters come from projections: wait until they include every earlier send.
  const countersDb = createOtpCountersFromDb(readDb);
  const otp = createOtpService({
    store,
    keyring,
    now,
    newId,
    logger,
    smsSender: createSmsSenderFromEnv(config.env, { log: (line) => logger.info({ sender: 'console-sms' }, line) }),
    emailSender: createEmailSenderFromEnv(config.env, { log: (line) => logger.info({ sender: 'console-email' }, line) }),
    counters: {
      destinationSends: async (q) => (await channel.settleHead(), countersDb.destinationSends(q)),
      tenantSends: async (q) => (await channel.settleHead(), countersDb.tenantSends(q)),
    },
  });
  const services = [
    serviceOf(AdminService, {
      ...createAdminImpl({ tenants, policies, readDb: () => readDb, webhookDb: () => webhookDb, webhooks, settle, settleHead: channel.settleHead, now }),
      ...createOtpStatsImpl({ readDb: () => readDb, settleHead: channel.settleHead, now }),
    }),
    serviceOf(SmsOtpService, createSmsOtpImpl(otp, channel)),
    serviceOf(EmailOtpService, createEmailOtpImpl(otp, channel)),
    serviceOf(TotpService, createTotpImpl(createTotpService({ store, keyring, now }), channel)),
    serviceOf(WebAuthnService, createWebAuthnImpl(createWebAuthnService({ store, keyring, now }), channel)),
    serviceOf(PushService, createPushImpl(createPushService({ store, keyring, now, newId, sender: pushSender, log: logger }), channel)),
  ];

  const pipeline: Omit<PipelineDeps, 'onCall'> = {
    readDb: () => readDb,
    adminToken: config.adminToken,
    limiter: createRateLimiter({ limits: config.rateLimits, windowSeconds: config.rateLimits.windowSeconds, now }),
    metrics,
    logger,
  };
  const ready = createReadinessCheck({
    store,
    runners: [runner, webhookRunner],
    lagUnit: lagUnitOf(config.eventStore),
    onStoreDown: (err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'not ready: the event store check failed'),
  });
  return {
    logger,
    metrics,
    services,
    pipeline,
    ready,
    /** Once listening: the default passkey RP (SECUREKEY_PUBLIC_URL unset) and the in-flight
     * gauge. Returns the public URL. */
    listening: (port: number, inFlightOf: () => number) => {
      publicUrl ||= `http://localhost:${port}`;
      inFlight = inFlightOf;
      return publicUrl;
    },
    /** Stops webhook delivery and the read models, then closes the store. */
    close: async () => {
      await webhooks.stop();
      await webhookRunner.stop();
      await runner.stop();
      await pushSender.close();
      await store.close();
      readDb.close();
      webhookDb.close();
    },
  };
};

export const startSecureKey = async (config: Config, opts: StartOptions = {}): Promise<Running> => {
  const core = await composeSecureKey(config, opts);
  const { logger } = core;
  const handle = createApp({
    services: core.services,
    pipeline: core.pipeline,
    metrics: core.metrics,
    bodyLimitBytes: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    version: pkg.version,
    extraRoutes: [createDemoRoute({ enabled: config.demo })],
    ready: core.ready,
  });
  const server = await startServer({ port: config.port, host: config.host, handle });
  const publicUrl = core.listening(server.port, server.inFlight);
  const line = listeningLine(config, server.port, publicUrl, process.stdout.isTTY === true);
  logger.info(line.fields, line.msg);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info({ inFlight: server.inFlight() }, 'shutting down: draining');
      await server.close(config.shutdownGraceMs);
      await core.close();
      logger.info('stopped');
    })());
  return { port: server.port, stop, config };
};

if (import.meta.main) {
  let config: Config | undefined;
  try {
    config = loadConfig();
    const running = await startSecureKey(config);
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        running.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
    }
  } catch (err) {
    const failure = startFailure(err, config);
    if (!failure) throw err;
    console.error(failure);
    process.exit(2);
  }
}
