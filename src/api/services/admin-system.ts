// AdminService: this node's latency and projection lag over time (from its own metrics), and the
// system at a glance: nodes, the event store, each read model, the webhook deliverer, the version.
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import type { DatabaseSync } from 'node:sqlite';
import type { NodeRegistry } from '../../app/nodes.ts';
import type { EventStore } from '../../eventstore/port.ts';
import type { AdminService } from '../../gen/securekey/v1/admin_pb.js';
import type { ProjectionHealth } from '../../../projections/runtime.ts';
import { deliveryCounts } from '../../webhooks/deliveries.ts';
import type { MetricsHistory } from '../metrics-history.ts';
import type { LagUnit } from '../readiness.ts';

export type DelivererStatus = { mode: 'lease' | 'persistent-subscription'; holder: string; thisNodeDelivers: boolean };

export type AdminSystemDeps = {
  version: string;
  nodeId: string;
  startedAt: number;
  /** The SECUREKEY_EVENTSTORE value and the data directory. */
  eventStore: string;
  dataDir: string;
  store: Pick<EventStore, 'ping' | 'headPosition'>;
  readModels: () => Promise<Record<string, ProjectionHealth>>;
  lagUnit: LagUnit;
  history: MetricsHistory;
  nodes: NodeRegistry;
  webhooks: { status: () => DelivererStatus };
  webhookDb: () => DatabaseSync;
};

/** Where the store is, without credentials or options: "host1:2113, host2:2113". */
export const storeLocation = (eventStore: string, dataDir: string): string => {
  if (eventStore === 'sqlite') return dataDir;
  const afterScheme = eventStore.replace(/^[a-z+]+:\/\//i, '');
  const hosts = afterScheme.slice(afterScheme.lastIndexOf('@') + 1).split(/[?/]/)[0] ?? '';
  return hosts.split(',').join(', ');
};

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 200);

export const createAdminSystemImpl = (deps: AdminSystemDeps): Pick<ServiceImpl<typeof AdminService>, 'getServerMetrics' | 'getSystemStatus'> => ({
  getServerMetrics: async () => ({
    samples: (await deps.history.samples()).map((s) => ({ ...s, at: timestampFromMs(s.at) })),
    latency: await deps.history.latency(),
    lagUnit: deps.lagUnit,
  }),
  getSystemStatus: async () => {
    const store = await (async () => {
      try {
        await deps.store.ping();
        return { reachable: true, headPosition: BigInt(await deps.store.headPosition()), error: '' };
      } catch (err) {
        return { reachable: false, headPosition: 0n, error: message(err) };
      }
    })();
    const readModels = Object.entries(await deps.readModels()).map(([name, h]) => ({
      name,
      status: h.status,
      lag: h.lag,
      error: h.status === 'failing' ? h.error : '',
      failedAt: BigInt(h.status === 'failing' ? h.failedAt : 0),
    }));
    return {
      version: deps.version,
      nodeId: deps.nodeId,
      startedAt: timestampFromMs(deps.startedAt),
      store: { kind: deps.eventStore === 'sqlite' ? 'sqlite' : 'kurrentdb', location: storeLocation(deps.eventStore, deps.dataDir), ...store },
      readModels,
      lagUnit: deps.lagUnit,
      webhooks: { ...deps.webhooks.status(), ...deliveryCounts(deps.webhookDb()) },
      nodes: deps.nodes.list().map((n) => ({ ...n, startedAt: timestampFromMs(n.startedAt), seenAt: timestampFromMs(n.seenAt) })),
    };
  },
});
