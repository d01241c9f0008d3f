// Tenants folded straight from the event log (the CLI has no read models of its own).
import { tenantDecider } from '../domain/tenant/index.ts';
import type { EventStore } from '../eventstore/port.ts';
import { foldStream } from '../eventstore/handle-command.ts';

export const listTenantsFromLog = async (store: EventStore) => {
  const streams = new Set<string>();
  for (let from = 0; ; ) {
    const page = await store.readAll({ fromPosition: from, maxCount: 1000 });
    if (page.length === 0) break;
    for (const e of page) if (e.type === 'TenantCreated') streams.add(e.streamName);
    from = page[page.length - 1]!.position;
  }
  const out = [];
  for (const stream of streams) {
    const events = await store.readStream(stream);
    const s = foldStream(tenantDecider, events);
    if (s.status !== 'active') continue;
    const issued = events.filter((e) => e.type === 'ApiKeyIssued').map((e) => e.data as { keyId: string; name: string; prefix: string; at: number });
    out.push({
      tenantId: s.tenantId,
      name: s.name,
      keys: issued.map((k) => ({ keyId: k.keyId, name: k.name, prefix: k.prefix, revoked: s.keys.get(k.keyId)?.revoked ?? false })),
    });
  }
  return out;
};
