// Read model of tenants and their API keys. Authentication looks keys up here by hash.
import type { DatabaseSync } from 'node:sqlite';
import { assertNever } from '../../src/domain/decider.ts';
import type { TenantSettings } from '../../src/domain/tenant/index.ts';
import { projection } from '../runtime.ts';
import { prepared } from '../sql.ts';

export const tenantsProjection = projection({
  name: 'tenants',
  version: 1,
  canHandle: ['TenantCreated', 'ApiKeyIssued', 'ApiKeyRevoked', 'TenantSettingsChanged', 'WebhookSecretRotated'],
  init: (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS tenants (
        tenant_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL,
        settings TEXT NOT NULL, webhook_secret_enc TEXT);
      CREATE TABLE IF NOT EXISTS api_keys (
        key_hash TEXT PRIMARY KEY, key_id TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL,
        name TEXT NOT NULL, prefix TEXT NOT NULL, created_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys(tenant_id);`);
  },
  reset: (db) => db.exec('DELETE FROM tenants; DELETE FROM api_keys;'),
  changed: (db) => callers.get(db)?.clear(),
  evolve: (db, event) => {
    switch (event.type) {
      case 'TenantCreated': {
        const d = event.data;
        prepared(db, 'INSERT OR IGNORE INTO tenants (tenant_id, name, created_at, settings) VALUES (?, ?, ?, ?)').run(d.tenantId, d.name, d.at, JSON.stringify(d.settings ?? {}));
        break;
      }
      case 'ApiKeyIssued': {
        const d = event.data;
        prepared(db, 'INSERT OR IGNORE INTO api_keys (key_hash, key_id, tenant_id, name, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(d.keyHash, d.keyId, d.tenantId, d.name, d.prefix, d.at);
        break;
      }
      case 'ApiKeyRevoked':
        prepared(db, 'UPDATE api_keys SET revoked = 1 WHERE key_id = ? AND tenant_id = ?').run(event.data.keyId, event.data.tenantId);
        break;
      case 'TenantSettingsChanged': {
        const d = event.data;
        const row = prepared(db, 'SELECT settings FROM tenants WHERE tenant_id = ?').get(d.tenantId) as { settings: string } | undefined;
        if (row) prepared(db, 'UPDATE tenants SET settings = ? WHERE tenant_id = ?').run(JSON.stringify({ ...JSON.parse(row.settings), ...d.settings }), d.tenantId);
        break;
      }
      case 'WebhookSecretRotated':
        prepared(db, 'UPDATE tenants SET webhook_secret_enc = ? WHERE tenant_id = ?').run(event.data.secretEnc, event.data.tenantId);
        break;
      default:
        assertNever(event);
    }
  },
});

export type TenantRow = {
  tenantId: string;
  name: string;
  createdAt: number;
  settings: TenantSettings;
  webhookSecretEnc: string | null;
};

export type ApiKeyRow = { keyId: string; tenantId: string; name: string; prefix: string; createdAt: number; revoked: boolean };

type TenantDbRow = { tenant_id: string; name: string; created_at: number; settings: string; webhook_secret_enc: string | null };
type KeyDbRow = { key_id: string; tenant_id: string; name: string; prefix: string; created_at: number; revoked: number };

const toTenant = (r: TenantDbRow): TenantRow => ({ tenantId: r.tenant_id, name: r.name, createdAt: r.created_at, settings: JSON.parse(r.settings), webhookSecretEnc: r.webhook_secret_enc ?? null });
const toKey = (r: KeyDbRow): ApiKeyRow => ({ keyId: r.key_id, tenantId: r.tenant_id, name: r.name, prefix: r.prefix, createdAt: r.created_at, revoked: r.revoked === 1 });

export const findKeyByHash = (db: DatabaseSync, keyHash: string): ApiKeyRow | undefined => {
  const r = prepared(db, 'SELECT * FROM api_keys WHERE key_hash = ?').get(keyHash) as KeyDbRow | undefined;
  return r ? toKey(r) : undefined;
};

export const getTenant = (db: DatabaseSync, tenantId: string): TenantRow | undefined => {
  const r = prepared(db, 'SELECT * FROM tenants WHERE tenant_id = ?').get(tenantId) as TenantDbRow | undefined;
  return r ? toTenant(r) : undefined;
};

export const listTenants = (db: DatabaseSync): TenantRow[] => (prepared(db, 'SELECT * FROM tenants ORDER BY created_at, tenant_id').all() as TenantDbRow[]).map(toTenant);

export const listKeys = (db: DatabaseSync, tenantId: string): ApiKeyRow[] => (prepared(db, 'SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, key_id').all(tenantId) as KeyDbRow[]).map(toKey);

/** Authentication's view of this read model, held in memory: every call looks its key up, and
 * two queries (and a JSON parse of the settings) per call were a tenth of the request path. An
 * entry is what the read model said when it was read; the runner drops them all after each
 * commit that took the read model past a tenants event (projection `changed`), so a revoked key
 * or changed setting is seen exactly when the read model has it, on every node. Unknown keys are
 * not remembered (anyone can send those), and the map is bounded. */
const callers = new WeakMap<DatabaseSync, Map<string, { key: ApiKeyRow; tenant: TenantRow }>>();
const MAX_CALLERS = 10_000;

/** The key with this hash and its tenant, or undefined when either is unknown. */
export const findCaller = (db: DatabaseSync, keyHash: string): { key: ApiKeyRow; tenant: TenantRow } | undefined => {
  let known = callers.get(db);
  if (!known) callers.set(db, (known = new Map()));
  const hit = known.get(keyHash);
  if (hit) return hit;
  const key = findKeyByHash(db, keyHash);
  const tenant = key && getTenant(db, key.tenantId);
  if (!key || !tenant) return undefined;
  if (known.size >= MAX_CALLERS) known.clear();
  const entry = deepFreeze({ key, tenant }); // shared by every call: nobody may change it
  known.set(keyHash, entry);
  return entry;
};

const deepFreeze = <T>(v: T): T => {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
};
