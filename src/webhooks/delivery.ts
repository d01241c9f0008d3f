// Chooses how this node delivers webhooks. SQLite: one deliverer per data directory (a lease on
// the shared webhooks database) running the worker. KurrentDB: every node is a competing
// consumer of one persistent subscription, so nodes share the work. The KurrentDB client (and its
// gRPC stack) is loaded only in that mode: a SQLite server never holds it in memory.
import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { PersonalData } from '../privacy/personal-data.ts';
import { leaseHolder, runWhileLeader } from './leader.ts';
import { createWebhookWorker } from './worker.ts';

export type WebhookDelivery = {
  kick: () => void;
  stop: () => Promise<void>;
  /** Who delivers: this node, and (SQLite) the lease holder. */
  status: () => { mode: 'lease' | 'persistent-subscription'; holder: string; thisNodeDelivers: boolean };
};

export const startWebhookDelivery = (o: {
  config: Config;
  db: DatabaseSync;
  keyring: Keyring;
  /** Opens the personal values of an event (kurrentdb) or of a body the projection stored sealed (sqlite). */
  personal: Pick<PersonalData, 'open' | 'openJson'>;
  now: () => number;
  logger: Logger;
  /** Waits until the shared webhook projection includes a position (KurrentDB mode). */
  settle: (position: number) => Promise<void>;
}): WebhookDelivery => {
  const { config, db, keyring, now } = o;
  const log = o.logger.child({ component: 'webhooks' });
  if (config.eventStore !== 'sqlite') {
    const delivery = import('./kurrent/index.ts').then(({ createEndpointLookup, createPersistentWebhookDelivery }) => {
      const d = createPersistentWebhookDelivery({
        connectionString: config.eventStore,
        keyring,
        open: o.personal.open,
        now,
        log,
        tenantOf: createEndpointLookup({ db, now }),
        settle: o.settle,
        timeoutMs: config.webhooks.timeoutMs,
        egress: { allowPrivate: config.webhooks.allowPrivate },
        maxRetries: config.webhooks.maxAttempts - 1,
        // Each delay is held in memory by the consumer: cap it so events do not sit for an hour.
        backoff: { baseMs: config.webhooks.backoffBaseMs, maxMs: Math.min(config.webhooks.backoffMaxMs, 60_000) },
      });
      void d.start();
      return d;
    });
    delivery.catch((err) => log.error({ err: String(err) }, 'webhook delivery could not start'));
    return {
      kick: () => void delivery.then((d) => d.replayParked()).catch((err) => log.warn({ err: String(err) }, 'replaying parked webhooks failed')),
      stop: () => delivery.then((d) => d.stop()),
      status: () => ({ mode: 'persistent-subscription', holder: '', thisNodeDelivers: true }),
    };
  }
  const worker = createWebhookWorker({
    db,
    keyring,
    openBody: o.personal.openJson,
    now,
    log,
    timeoutMs: config.webhooks.timeoutMs,
    egress: { allowPrivate: config.webhooks.allowPrivate },
    maxAttempts: config.webhooks.maxAttempts,
    backoff: { baseMs: config.webhooks.backoffBaseMs, maxMs: config.webhooks.backoffMaxMs },
  });
  const leadership = runWhileLeader({
    db,
    name: 'webhook-delivery',
    holder: `${config.nodeId || 'node'}:${process.pid}:${randomUUID()}`,
    ttlMs: 10_000,
    now,
    onGain: () => {
      log.info({}, 'this node delivers webhooks');
      worker.start();
    },
    onLose: () => worker.stop(),
    onError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'webhook leader lease'),
  });
  return {
    kick: worker.kick,
    stop: () => leadership.stop(),
    status: () => ({ mode: 'lease', holder: leaseHolder(db, 'webhook-delivery', now()), thisNodeDelivers: leadership.isLeader() }),
  };
};
