// AdminService: this node's latency and projection lag over time (from its own metrics), and the
// system at a glance: nodes, the event store, each read model, the webhook deliverer, the version.
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import type { DatabaseSync } from 'node:sqlite';
import type { NodeRegistry } from '../../app/nodes.ts';
import { type Config, describeStore } from '../../config.ts';
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
  config: Pick<Config, 'eventStore' | 'dataDir'>;
  store: Pick<EventStore, 'ping' | 'headPosition'>;
  readModels: () => Promise<Record<string, ProjectionHealth>>;
  lagUnit: LagUnit;
  history: MetricsHistory;
  nodes: NodeRegistry;
  webhooks: { status: () => DelivererStatus };
  webhookDb: () => DatabaseSync;
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
      store: { kind: deps.config.eventStore === 'sqlite' ? 'sqlite' : 'kurrentdb', location: describeStore(deps.config), ...store },
      readModels,
      lagUnit: deps.lagUnit,
      webhooks: { ...deps.webhooks.status(), ...deliveryCounts(deps.webhookDb()) },
      nodes: deps.nodes.list().map((n) => ({ ...n, startedAt: timestampFromMs(n.startedAt), seenAt: timestampFromMs(n.seenAt) })),
    };
  },
});
