// /readyz: may this node take traffic? Yes when the event store answers (ping) and every read
// model has caught up with the head of the log as it was *before* the check: the head is sampled
// first, then each projection gets up to `waitMs` to reach it. Comparing with the head afterwards
// (lag exactly 0) flapped on a shared log, where other nodes keep appending while we look: being
// a few events behind a moving head is normal, not being able to reach a head already sampled
// is not. A projection stopped at an error never reaches it, so the node is then not ready.
//
// Lag is the head position minus a projection's checkpoint, in the store's position unit: events
// on SQLite (positions count events), bytes of the transaction log on KurrentDB (positions are
// log offsets). The unit is reported with it, and the metric's name says it (src/api/metrics.ts).
import type { EventStore } from '../eventstore/port.ts';

export type LagUnit = 'events' | 'log_bytes';

/** SQLite numbers its events; KurrentDB's positions are offsets in its transaction log. */
export const lagUnitOf = (eventStore: string): LagUnit => (eventStore === 'sqlite' ? 'events' : 'log_bytes');

/** Pure: ready when the store answered and every projection's checkpoint is at or past the head
 * sampled before; `behind` names those that are not. */
export const decideReadiness = (o: { storeOk: boolean; headBefore: number; checkpoints: Record<string, number> }): { ready: boolean; behind: string[] } => {
  const behind = Object.entries(o.checkpoints)
    .filter(([, cp]) => cp < o.headBefore)
    .map(([name]) => name)
    .sort();
  return { ready: o.storeOk && behind.length === 0, behind };
};

/** What readiness needs of a projection runner (projections/runtime.ts). */
export type CatchingUp = {
  waitFor: (position: number, timeoutMs?: number) => Promise<void>;
  checkpoints: () => Record<string, number>;
};

export type Readiness = { ready: boolean; checks: Record<string, unknown> };

export const createReadinessCheck = (o: {
  store: Pick<EventStore, 'ping' | 'headPosition'>;
  runners: CatchingUp[];
  lagUnit: LagUnit;
  /** How long projections may take to reach the sampled head. Default 1000 ms. */
  waitMs?: number;
  /** Called when the store stops answering (not on every check while it stays down). */
  onStoreDown?: (err: unknown) => void;
}): (() => Promise<Readiness>) => {
  const waitMs = o.waitMs ?? 1000;
  let storeWasOk = true;
  return async () => {
    let headBefore: number;
    try {
      await o.store.ping();
      headBefore = await o.store.headPosition();
      storeWasOk = true;
    } catch (err) {
      if (storeWasOk) o.onStoreDown?.(err);
      storeWasOk = false;
      return { ready: false, checks: { store: 'unavailable' } };
    }
    await Promise.allSettled(o.runners.map((r) => r.waitFor(headBefore, waitMs)));
    const checkpoints = Object.assign({}, ...o.runners.map((r) => r.checkpoints())) as Record<string, number>;
    const { ready, behind } = decideReadiness({ storeOk: true, headBefore, checkpoints });
    const projectionLag = Object.fromEntries(Object.entries(checkpoints).map(([name, cp]) => [name, Math.max(0, headBefore - cp)]));
    return { ready, checks: { store: 'ok', projectionLag, projectionLagUnit: o.lagUnit, ...(behind.length ? { behind } : {}) } };
  };
};
