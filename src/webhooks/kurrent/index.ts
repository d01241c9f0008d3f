// Webhook delivery across server nodes on KurrentDB: one persistent subscription group on $all
// (competing consumers, round robin), filtered on the server to our outcome event types. Every
// node subscribes to the same group, so each event goes to one node at a time; that node POSTs
// it and acks, or nacks 'retry' after a backoff delay, or nacks 'park' (dead letter:
// `$persistentsubscription-$all::<group>-parked`, replayed with replayParked() or the
// KurrentDB UI). Delivery is at least once: a node that dies mid-request has its events re-sent
// to the others (receivers de-duplicate on X-SecureKey-Event-Id, as with the SQLite worker).
//
// The group starts from the beginning of the log when it is first created ('start', default):
// nothing written before the first node created it is lost, and maxAgeMs (3 days, as the SQLite
// worker) keeps old history from being sent. Later starts find the group and continue from its
// server-side checkpoint. Settings apply when the group is created; an existing group keeps its
// own, so every node reads them back at each subscription and follows those (groupLimits), with
// a warning when they differ from its configuration (change them with
// updatePersistentSubscriptionToAll, or delete the group).
//
// Every decision is in decisions.ts (pure); the per-event work in processor.ts. This file only
// connects: create the group, subscribe, resubscribe with backoff when the connection is lost.
// One client serves every attempt, so a NotLeader answer's redirect to the leader is followed
// (a single-host connection string may point at a follower or a load balancer); it is replaced
// only when a call outlives its bound (its connection is presumed stuck: client.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { KurrentDBClient, type PersistentSubscriptionToAllResolvedEvent } from '@kurrent/kurrentdb-client';
import type { StoredEvent } from '../../eventstore/port.ts';
import { createClientSlot, disposeClient, OperationTimeoutError, withTimeout } from '../../eventstore/kurrentdb/client.ts';
import { describeError, isChannelShutDown, serverDeadlineMs, toStoredEvent } from '../../eventstore/kurrentdb/mapping.ts';
import type { BackoffPolicy } from '../decisions.ts';
import { DEFAULT_GROUP, failingTenantCap, type GroupLimits, groupLimits, isGroupExistsError, persistentSubscriptionSettings, reconnectDelay, webhookEventFilter } from './decisions.ts';
import { createDeliveryProcessor, type DeliveryProcessor, type DeliveryProcessorOptions } from './processor.ts';

export type { WebhookEndpoint } from './decisions.ts';
export type { DeliveryAttempt } from './processor.ts';
export { createEndpointLookup } from './endpoints.ts';

export type PersistentWebhookDeliveryOptions = Omit<DeliveryProcessorOptions, 'messageTimeoutMs' | 'backoff' | 'maxHeldWhenFailing'> & {
  /** kurrentdb://, kurrent://, esdb:// (or +discover) connection string. */
  connectionString: string;
  /** The persistent subscription group every node joins. Default 'securekey-webhooks'. */
  group?: string;
  /** Retry delays. The event is held in memory (and in flight at the server) during a delay, so
   * keep maxMs in minutes, not hours. Default { baseMs: 1000, maxMs: 60_000 }. */
  backoff?: BackoffPolicy;
  /** Events the server may have in flight to this node at once (its window). A tenant whose
   * endpoint is failing holds at most failingTenantCap(perTenantConcurrency, bufferSize) of them:
   * a quarter of the window at most. Default 32. */
  bufferSize?: number;
  /** Where a newly created group starts. Default 'start' (see the header). */
  startFrom?: 'start' | 'end';
  /** The group's message timeout when this node creates it. Default
   * defaultMessageTimeoutMs(timeoutMs, backoff). */
  messageTimeoutMs?: number;
  /** Bound on creating the group and on the server confirming the subscription. Default 5000. */
  operationTimeoutMs?: number;
};

export type PersistentWebhookDelivery = {
  /** Creates the group if needed and subscribes. Resolves once subscribed, or after the first
   * failure (logged; it keeps retrying in the background), so a server start is never blocked. */
  start: () => Promise<void>;
  /** Leaves the group: requests in flight are aborted and not answered, so the server re-sends
   * those events to the other nodes (their retryCount goes up by one). */
  stop: () => Promise<void>;
  /** Sends the parked (dead-letter) events through the group again. */
  replayParked: () => Promise<void>;
  /** True while subscribed. */
  subscribed: () => boolean;
};

type Subscription = ReturnType<KurrentDBClient['subscribeToPersistentSubscriptionToAll']>;

/** The event as the port sees it; undefined when the client gave an entry we cannot read. */
const toEvent = (resolved: PersistentSubscriptionToAllResolvedEvent): StoredEvent | undefined => {
  try {
    return toStoredEvent(resolved);
  } catch {
    return undefined;
  }
};

/** The connection is presumed stuck: a call outlived its bound, or its channel was closed. */
const isStuck = (err: unknown) => err instanceof OperationTimeoutError || isChannelShutDown(err);

export const createPersistentWebhookDelivery = (o: PersistentWebhookDeliveryOptions): PersistentWebhookDelivery => {
  const { log } = o;
  const group = o.group ?? DEFAULT_GROUP;
  const backoff = o.backoff ?? { baseMs: 1000, maxMs: 60_000 };
  const bufferSize = o.bufferSize ?? 32;
  const perTenantConcurrency = o.perTenantConcurrency ?? 4;
  const opTimeoutMs = o.operationTimeoutMs ?? 5000;
  const random = o.random ?? Math.random;
  const settings = persistentSubscriptionSettings({ timeoutMs: o.timeoutMs, maxRetries: o.maxRetries, backoff, startFrom: o.startFrom ?? 'start', messageTimeoutMs: o.messageTimeoutMs });
  const configured: GroupLimits = { maxRetries: o.maxRetries, messageTimeoutMs: settings.messageTimeout };
  const newProcessor = (limits: GroupLimits) =>
    createDeliveryProcessor({ ...o, backoff, random, perTenantConcurrency, maxHeldWhenFailing: failingTenantCap(perTenantConcurrency, bufferSize), ...limits });

  let processor: DeliveryProcessor | undefined;
  let stopAc = new AbortController();
  let loop: Promise<void> | undefined;
  let started: Promise<void> = Promise.resolve();
  let isSubscribed = false;
  let warned = '';

  /** Creates the group if needed, and reads back the limits it really has. */
  const prepareGroup = async (client: KurrentDBClient): Promise<GroupLimits> => {
    const deadline = serverDeadlineMs(opTimeoutMs);
    try {
      await withTimeout('creating the subscription group', opTimeoutMs, client.createPersistentSubscriptionToAll(group, settings, { filter: webhookEventFilter(), deadline }));
      log.info({ group, startFrom: o.startFrom ?? 'start', maxRetryCount: settings.maxRetryCount, messageTimeoutMs: settings.messageTimeout }, 'webhook subscription group created');
    } catch (err) {
      if (!isGroupExistsError(err)) throw err;
    }
    const info = await withTimeout('reading the subscription group', opTimeoutMs, client.getPersistentSubscriptionToAllInfo(group, { deadline }));
    const r = groupLimits({ configured, server: info.settings, timeoutMs: o.timeoutMs });
    if ('unusable' in r) throw new Error(r.unusable);
    const differences = r.differences.join(', ');
    if (differences && differences !== warned) log.warn({ group, differences }, "webhook subscription group: following the group's own settings, which differ from this configuration (update or delete the group to change them)");
    warned = differences;
    return r.limits;
  };

  /** Resolves when stopped, rejects when the subscription fails or ends. */
  const consume = (sub: Subscription, into: DeliveryProcessor, subSignal: AbortSignal, onConfirmed: () => void) =>
    new Promise<void>((resolve, reject) => {
      let confirmed = false;
      let done = false;
      const confirm = () => {
        if (confirmed) return;
        confirmed = true;
        onConfirmed();
      };
      const finish = (err?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        stopAc.signal.removeEventListener('abort', onStop);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onStop = () => finish();
      const timer = setTimeout(() => {
        if (!confirmed) finish(new OperationTimeoutError('confirming the subscription', opTimeoutMs));
      }, opTimeoutMs);
      stopAc.signal.addEventListener('abort', onStop);
      sub.on('confirmation', confirm);
      sub.on('data', (resolved: PersistentSubscriptionToAllResolvedEvent) => {
        confirm();
        if (subSignal.aborted) return;
        into.push({
          event: toEvent(resolved),
          retryCount: resolved.retryCount ?? 0,
          signal: subSignal,
          reply: {
            ack: () => sub.ack(resolved),
            nack: (action, reason) => sub.nack(action, reason, resolved),
          },
        });
      });
      sub.on('error', (err) => finish(err));
      sub.on('end', () => finish(new Error('the server ended the subscription')));
      sub.on('close', () => finish(new Error('the subscription closed')));
    });

  const run = async (signalStarted: () => void) => {
    let failures = 0;
    const signal = stopAc.signal;
    const slot = createClientSlot(() => KurrentDBClient.connectionString(o.connectionString));
    try {
      while (!signal.aborted) {
        const client = slot.current({ channel: true });
        const subAc = new AbortController();
        let sub: Subscription | undefined;
        try {
          const limits = await prepareGroup(client);
          if (signal.aborted) break;
          const into = (processor = newProcessor(limits));
          sub = client.subscribeToPersistentSubscriptionToAll(group, { bufferSize });
          await consume(sub, into, subAc.signal, () => {
            failures = 0;
            isSubscribed = true;
            log.info({ group, bufferSize, ...limits }, 'webhook delivery: joined the subscription group');
            signalStarted();
          });
        } catch (err) {
          if (!signal.aborted) {
            failures++;
            if (isStuck(err)) slot.replace(client);
            log.warn({ group, failures, err: describeError(err) }, 'webhook subscription failed; subscribing again');
          }
        } finally {
          isSubscribed = false;
          subAc.abort(); // events still held from this subscription: the server re-sends them
          if (sub) {
            const s = sub;
            s.on('error', () => {}); // a late error must not become an uncaught exception
            // Not awaited: unsubscribing waits for the call to exist, which a dead server may delay.
            s.unsubscribe().then(() => s.destroy(), () => s.destroy());
          }
        }
        signalStarted();
        if (signal.aborted) break;
        try {
          await sleep(reconnectDelay(failures, random), undefined, { signal });
        } catch {
          break;
        }
      }
    } finally {
      await slot.close();
    }
  };

  return {
    start: () => {
      if (loop) return started;
      stopAc = new AbortController();
      let signalStarted = () => {};
      started = new Promise<void>((resolve) => (signalStarted = resolve));
      loop = run(signalStarted);
      return started;
    },
    stop: async () => {
      if (!loop) return;
      await processor?.stop();
      stopAc.abort();
      await loop;
      loop = undefined;
    },
    replayParked: async () => {
      const client = KurrentDBClient.connectionString(o.connectionString);
      try {
        await withTimeout('replaying parked messages', opTimeoutMs, client.replayParkedMessagesToAll(group, { deadline: serverDeadlineMs(opTimeoutMs) }));
      } finally {
        await disposeClient(client);
      }
    },
    subscribed: () => isSubscribed,
  };
};
