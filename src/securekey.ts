// Composition root: wires the store, projections, services and the server from the config.
// src/main.ts is the entry point that starts it.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { createTenantService } from './app/tenants.ts';
import { readModelsPath, streamSnapshotsPath, webhooksDbPath, type Config } from './config.ts';
import { createLogger } from './log.ts';
import { listeningLine } from './startup.ts';
import { privateDir } from './fs/private.ts';
import { openStore, sqliteEventsPath } from './eventstore/open.ts';
import { createApp } from './api/app.ts';
import { serviceOf } from './api/registry.ts';
import { createMetrics, instrumentStore, type Metrics } from './api/metrics.ts';
import { createReadinessCheck, lagUnitOf } from './api/readiness.ts';
import { createAdmission, createAdmissionLimiter, rateLimitKeys } from './api/admission.ts';
import { startServer } from './api/server.ts';
import type { PipelineDeps } from './api/pipeline.ts';
import { createAdminImpl } from './api/services/admin.ts';
import { createOtpStatsImpl } from './api/services/admin-stats.ts';
import { createAdminWebhooksImpl } from './api/services/admin-webhooks.ts';
import { createAdminSystemImpl } from './api/services/admin-system.ts';
import { createMetricsHistory } from './api/metrics-history.ts';
import { createNodeRegistry } from './app/nodes.ts';
import { createDemoRoute } from './api/demo.ts';
import { createConsoleRoute } from './api/console.ts';
import { AdminService } from './gen/securekey/v1/admin_pb.js';
import { createProjectionRunner, type Projection, type ProjectionFailure, type ProjectionHealth, type ProjectionRunner } from '../projections/runtime.ts';
import type { DatabaseSync } from 'node:sqlite';
import type { Keyring } from './crypto/keyring.ts';
import { openReadModelDb } from '../projections/sql.ts';
import { DEFERRED_AUTOCHECKPOINT_PAGES, deferCheckpoints, startCheckpointer } from './sqlite/checkpoints.ts';
import { startProjectionThread } from '../projections/thread/index.ts';
import { StoreUnavailableError, type EventStore } from './eventstore/port.ts';
import { channelsVerifiedSince } from '../projections/mfa-verifications/index.ts';
import { listTenants } from '../projections/tenants/index.ts';
import { runRetention, startRetention } from './app/retention.ts';
import { createPolicyService } from './app/policy.ts';
import { createPushService } from './app/push.ts';
import { createRecoveryService } from './app/recovery.ts';
import { createTotpService } from './app/totp.ts';
import { createWebAuthnService } from './app/webauthn/index.ts';
import { createPushSenderFromEnv } from './senders/push/from-env.ts';
import type { ChannelDeps } from './api/services/common.ts';
import { createPushImpl } from './api/services/push.ts';
import { createEmailOtpImpl, createSmsOtpImpl } from './api/services/otp.ts';
import { createOtpService, resetOtpLimits } from './app/otp.ts';
import { createSmsSenderFromEnv } from './senders/sms/index.ts';
import { createEmailSenderFromEnv } from './senders/email/from-env.ts';
import { EmailOtpService, SmsOtpService } from './gen/securekey/v1/otp_pb.js';
import { createOtpCountersFromDb } from '../projections/otp-counters/index.ts';
import { nodeProjections, sharedProjections } from '../projections/index.ts';
import { startWebhookDelivery } from './webhooks/delivery.ts';
import { createRecoveryImpl } from './api/services/recovery.ts';
import { checkWebhookUrl } from './webhooks/egress.ts';
import { createLimitsReset } from './app/limits.ts';
import { createLimitsImpl } from './api/services/limits.ts';
import { LimitsService } from './gen/securekey/v1/limits_pb.js';
import { createTotpImpl } from './api/services/totp.ts';
import { createWebAuthnImpl } from './api/services/webauthn.ts';
import { PushService } from './gen/securekey/v1/push_pb.js';
import { RecoveryService } from './gen/securekey/v1/recovery_pb.js';
import { TotpService } from './gen/securekey/v1/totp_pb.js';
import { WebAuthnService } from './gen/securekey/v1/webauthn_pb.js';
import { UserService } from './gen/securekey/v1/users_pb.js';
import { createUserImpl } from './api/services/users.ts';
import { createUsersService } from './app/users.ts';
import { type NewId, randomId } from './app/ids.ts';
import { createEventLog } from './app/event-log.ts';
import { createUserKeys } from './app/user-keys.ts';
import { createErasureFollower, learnErasures } from './app/erasure-follower.ts';
import { openPrivacy } from './privacy/open.ts';
import { createSnapshotSeal } from './privacy/snapshot-seal.ts';
import { openStreamSnapshots } from './stream-snapshots/sqlite.ts';
import { createMfaGate } from './app/mfa-gate.ts';
import { createReadYourWrites, type ReadModelName } from './app/read-models.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export type Running = { port: number; stop: () => Promise<void>; config: Config };

export type StartOptions = {
  logger?: Logger;
  /** Epoch ms for every decision, limit, lease and expiry (default Date.now): tests move it forward. */
  now?: () => number;
  /** Ids of created tenants, keys, codes, push requests and devices (default randomId). */
  newId?: NewId;
  /** Tests: wrap the store (e.g. to inject faults). */
  wrapStore?: (store: EventStore) => EventStore;
  /** Tests: wrap the read models (e.g. make one of them throw). */
  wrapProjection?: (projection: Projection) => Projection;
  /** Delays before a projection stopped at an error tries again (default 1 s doubling to 60 s). */
  projectionRetry?: { baseMs?: number; maxMs?: number };
  /** Real time between runs of the retention job (default 10 minutes); it decides with `now`. */
  retentionEveryMs?: number;
  /** How often this node samples its own metrics for the console (default 10 s). */
  metricsSampleMs?: number;
  /** Events a cold load folds before it leaves a snapshot of the stream (default 100). */
  snapshotMinEvents?: number;
};

/** Which runner follows each read model a call may name: tsc checks that every name has one. */
const FOLLOWED_BY: Record<ReadModelName, 'node' | 'shared'> = {
  tenants: 'node',
  audit: 'node',
  'otp-counters': 'node',
  'otp-stats': 'node',
  'mfa-verifications': 'node',
  insights: 'node',
  webhooks: 'shared',
};

/** The runners of this node's read models and of the shared webhook outbox. On the embedded store
 * they work on a thread of their own (projections/thread), so that following the log never takes
 * the event loop that answers requests; in process for KurrentDB, and when a test wraps the store
 * or the read models (its wrappers are functions of this thread). The erasure follower (its
 * effects are this process's caches) runs here either way. */
const createRunners = (o: {
  config: Config;
  opts: StartOptions;
  store: EventStore;
  logger: Logger;
  metrics: Metrics;
  keyring: Keyring;
  readDb: DatabaseSync;
  webhookDb: DatabaseSync;
  root: Uint8Array;
  follower: Projection;
}): { node: ProjectionRunner; shared: ProjectionRunner } => {
  const { config, opts, store, logger, metrics, keyring, readDb, webhookDb, root, follower } = o;
  const runnerOptions = {
    store,
    retry: opts.projectionRetry,
    onError: (name: string, err: unknown, failure?: ProjectionFailure) => {
      if (name === '*') return logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'projections: store error, retrying with backoff');
      metrics.projectionErrors.inc({ projection: name });
      logger.error({ projection: name, position: failure?.position, attempts: failure?.attempts, retryInMs: failure && failure.retryAt - Date.now(), err }, 'projection failed at an event; it alone stops and tries again after a delay');
    },
    onRecovered: (name: string) => logger.info({ projection: name }, 'projection got past the event it had failed on'),
  };
  const wrap = (ps: Projection[]) => (opts.wrapProjection ? ps.map(opts.wrapProjection) : ps);
  const observeDelay = (ms: number) => metrics.projectionDelay.observe(ms / 1000);
  const threaded = config.eventStore === 'sqlite' && !opts.wrapStore && !opts.wrapProjection;
  return threaded
    ? startProjectionThread({
        eventsPath: sqliteEventsPath(config),
        root,
        retry: opts.projectionRetry,
        walAutocheckpoint: DEFERRED_AUTOCHECKPOINT_PAGES,
        runners: [
          { id: 'node', dbPath: readModelsPath(config), set: 'node', db: readDb, projections: nodeProjections(keyring), relayed: [follower], delays: true },
          { id: 'shared', dbPath: webhooksDbPath(config), set: 'shared', db: webhookDb, projections: sharedProjections, relayed: [] },
        ],
        headPosition: () => store.headPosition(),
        onError: runnerOptions.onError,
        onRecovered: runnerOptions.onRecovered,
        onDelays: (ms) => ms.forEach(observeDelay),
        onThreadError: (err) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'the projections thread failed; starting it again'),
      }).runners
    : {
        node: createProjectionRunner({
          ...runnerOptions,
          db: readDb,
          projections: [...wrap(nodeProjections(keyring)), follower],
          onApplied: (batch) => {
            const now = Date.now();
            for (const e of batch) observeDelay(now - e.recordedAt.getTime());
          },
        }),
        shared: createProjectionRunner({ ...runnerOptions, db: webhookDb, projections: wrap(sharedProjections) }),
      };
};

/** Everything but the listening socket: the store, read models, webhook delivery and the typed
 * services with their pipeline. startSecureKey serves them; tests may call them in process. */
export const composeSecureKey = async (config: Config, opts: StartOptions = {}) => {
  const logger = opts.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const now = opts.now ?? Date.now;
  const newId = opts.newId ?? randomId;
  let readModelsRef: { health: () => Promise<Record<string, ProjectionHealth>> } | undefined;
  let inFlight = () => 0;
  const metrics = createMetrics({
    readModels: () => readModelsRef?.health() ?? Promise.resolve({}),
    lagUnit: lagUnitOf(config.eventStore),
    inFlight: () => inFlight(),
    rateLimitKeys: () => rateLimitKeys(limiter),
  });
  const limiter = createAdmissionLimiter({ ...config.rateLimits, now, metrics, logger });
  privateDir(config.dataDir); // 0700: read models, webhook deliveries, the master key
  // The SQLite files' checkpoints run on a thread of their own (src/sqlite/checkpoints.ts), never
  // inside a group commit of appends or a read-model batch: their connections defer them to it.
  const rawStore = await openStore(config, { serving: true, walAutocheckpoint: DEFERRED_AUTOCHECKPOINT_PAGES });
  const store = instrumentStore(opts.wrapStore ? opts.wrapStore(rawStore) : rawStore, metrics);
  // Personal data: sealed with per-user data keys held in the key store (keys.db), never in the log.
  const privacy = await openPrivacy(config, store, now);
  const { keyring, personal } = privacy;
  // Long streams' folded states, sealed with the data keys they were opened with (src/stream-snapshots).
  const snapshots = openStreamSnapshots({
    path: streamSnapshotsPath(config),
    seal: createSnapshotSeal(privacy.vault),
    minEvents: opts.snapshotMinEvents,
    walAutocheckpoint: DEFERRED_AUTOCHECKPOINT_PAGES,
    onError: (err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'a stream snapshot could not be read or written; folding from the log'),
  });
  const events = createEventLog(store, personal, snapshots);
  const users = createUserKeys({ store, keyring });

  // Each node builds its own read models (SECUREKEY_NODE_ID names the file when several share a data dir).
  const readDb = openReadModelDb(readModelsPath(config));
  // A projection that throws stops alone at that event and tries it again with backoff; the
  // others, and every command that does not name it, go on.
  const webhookDb = openReadModelDb(webhooksDbPath(config));
  for (const db of [readDb, webhookDb]) deferCheckpoints(db);
  const checkpointer = startCheckpointer({
    files: [
      ...(config.eventStore === 'sqlite' ? [{ path: sqliteEventsPath(config), synchronous: 'FULL' as const }] : []),
      { path: readModelsPath(config), synchronous: 'NORMAL' },
      { path: webhooksDbPath(config), synchronous: 'NORMAL' },
      { path: streamSnapshotsPath(config), synchronous: 'NORMAL' },
    ],
    onError: (path, message) =>
      path
        ? logger.warn({ file: basename(path), err: message }, 'WAL checkpoints of this file fail; trying again')
        : logger.error({ err: message }, 'the checkpoint thread stopped; SQLite checkpoints each file itself past 10,000 pages of WAL'),
  });
  const { node: runner, shared: webhookRunner } = createRunners({ config, opts, store, logger, metrics, keyring, readDb, webhookDb, root: privacy.vault.root, follower: createErasureFollower({ users, vault: privacy.vault, snapshots }) });
  const runners = { node: runner, shared: webhookRunner };
  for (const [name, where] of Object.entries(FOLLOWED_BY)) {
    if (!runners[where].names().includes(name)) throw new Error(`the ${where} runner does not run the read model ${name}`);
  }
  readModelsRef = { health: async () => ({ ...(await runner.health()), ...(await webhookRunner.health()) }) };
  // Catch up before serving, so that keys and settings are current. Both at once: on their thread
  // they then read each page of the log once between them (projections/shared-pages.ts).
  const started = await Promise.allSettled([runner.start(), webhookRunner.start()]);
  for (const r of started) {
    if (r.status === 'fulfilled') continue;
    if (!(r.reason instanceof StoreUnavailableError)) throw r.reason;
    // Start anyway: /readyz says not ready, calls answer 503, and the runner keeps retrying.
    logger.warn({ err: r.reason.message }, 'event store unavailable at start-up; serving 503 until it is back');
  }
  if (!learnErasures({ users, status: runner.status(), readDb })) logger.warn('the erasures read model is not current: user keys are read from the log (slower) until the next start');
  const webhooks = startWebhookDelivery({ config, db: webhookDb, keyring, personal, now, logger, settle: (p) => webhookRunner.waitFor(p, 5000) });

  const readModels = createReadYourWrites({ headPosition: () => store.headPosition(), followers: [runner, webhookRunner], timeoutMs: config.readYourWritesTimeoutMs, log: logger });
  const egress = { allowPrivate: config.webhooks.allowPrivate };
  const tenants = createTenantService({ store, keyring, now, newId, webhookTargetProblem: (url) => checkWebhookUrl(url, egress) });
  const policies = createPolicyService({ store, now });
  let publicUrl = config.publicUrl;
  const channel: ChannelDeps = {
    gate: createMfaGate({ store, now, readModels, verifiedChannels: async (tenantId, userId, sinceMs) => channelsVerifiedSince(readDb, tenantId, await users.of(tenantId, userId), sinceMs) }),
    get publicUrl() {
      return publicUrl;
    },
  };
  const pushSender = await createPushSenderFromEnv(config.env, { log: logger });
  // The daily quota comes from a read model: a send decides on a count that includes every earlier
  // send (or on an upper bound of it that is still below the quota).
  const countersDb = createOtpCountersFromDb(readDb);
  const otp = createOtpService({
    events,
    users,
    keyring,
    now,
    newId,
    logger,
    smsSender: createSmsSenderFromEnv(config.env, { log: (line) => logger.info({ sender: 'console-sms' }, line) }),
    emailSender: await createEmailSenderFromEnv(config.env, { log: (line) => logger.info({ sender: 'console-email' }, line) }),
    counters: { tenantSends: (q) => readModels.countBelow('otp-counters', q.limit, () => countersDb.tenantSends(q), `${q.tenantId}\n${q.channel}\n${q.sinceMs}`) },
  });
  const nodes = createNodeRegistry({ db: webhookDb, nodeId: config.nodeId || 'node', version: pkg.version, now });
  const history = createMetricsHistory({ calls: metrics.calls, lag: () => readModelsRef!.health(), now, intervalMs: opts.metricsSampleMs });
  const totp = createTotpService({ events, users, keyring, now });
  const resetLimits = createLimitsReset({ resetOtp: (t, r, m) => resetOtpLimits({ events, keyring, now }, t, r, m), resetTotp: totp.resetThrottle });
  const services = [
    serviceOf(AdminService, {
      ...createAdminImpl({ tenants, policies, readDb: () => readDb, webhookDb: () => webhookDb, webhooks, readModels, now, personal, users, resetLimits }),
      ...createOtpStatsImpl({ readDb: () => readDb, readModels, now }),
      ...createAdminWebhooksImpl({ readDb: () => readDb, webhookDb: () => webhookDb, readModels, now, openBody: personal.openJson }),
      ...createAdminSystemImpl({
        version: pkg.version,
        nodeId: config.nodeId || 'node',
        startedAt: now(),
        config,
        store,
        readModels: () => readModelsRef!.health(),
        lagUnit: lagUnitOf(config.eventStore),
        history,
        nodes,
        webhooks,
        webhookDb: () => webhookDb,
      }),
    }),
    serviceOf(SmsOtpService, createSmsOtpImpl(otp, channel)),
    serviceOf(EmailOtpService, createEmailOtpImpl(otp, channel)),
    serviceOf(TotpService, createTotpImpl(totp, channel)),
    serviceOf(RecoveryService, createRecoveryImpl(createRecoveryService({ events, users, keyring, now, newId }), channel)),
    serviceOf(LimitsService, createLimitsImpl(resetLimits, readModels)),
    serviceOf(WebAuthnService, createWebAuthnImpl(createWebAuthnService({ events, users, keyring, now }), channel)),
    serviceOf(PushService, createPushImpl(createPushService({ events, users, keyring, now, newId, sender: pushSender, log: logger }), channel)),
    serviceOf(UserService, createUserImpl({ users: createUsersService({ events, store, personal, keyring, users, vault: privacy.vault, now, newId, auditDb: async () => readDb }), readModels })),
  ];

  const pipeline: Omit<PipelineDeps, 'onCall'> = {
    admit: createAdmission({
      readDb: () => readDb,
      adminToken: config.adminToken,
      limiter,
      limits: config.rateLimits,
    }),
    metrics,
    logger,
  };
  // Retention: the day keys of verification events past each tenant's retentionDays are destroyed.
  const retention = startRetention({
    run: () => runRetention({ vault: privacy.vault, tenants: () => listTenants(readDb), now }),
    everyMs: opts.retentionEveryMs ?? 600_000,
    now,
    metrics: metrics.retention,
    log: logger,
  });
  const readiness = createReadinessCheck({
    store,
    runners: [runner, webhookRunner],
    lagUnit: lagUnitOf(config.eventStore),
    onStoreDown: (err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'not ready: the event store check failed'),
  });
  // /readyz also shows each read model's state: for one stopped at an event, the error, the event
  // and when it tries again.
  const ready = async () => {
    const r = await readiness();
    if (r.checks.store !== 'ok') return r;
    const projections = await readModelsRef!.health().catch(() => undefined);
    return projections ? { ...r, checks: { ...r.checks, projections } } : r;
  };
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
      retention.stop();
      history.stop();
      nodes.stop();
      await webhooks.stop();
      await webhookRunner.stop();
      await runner.stop();
      await pushSender.close();
      await store.close();
      await checkpointer.close();
      readDb.close();
      webhookDb.close();
      snapshots.close();
      privacy.close();
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
    extraRoutes: [createDemoRoute({ enabled: config.demo }), createConsoleRoute({ enabled: config.console })],
    ready: core.ready,
  });
  const server = await startServer({
    port: config.port,
    host: config.host,
    handle,
    limits: config.connections,
    onRefused: (reason) => core.metrics.connectionsRefused.inc({ reason }),
  });
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
