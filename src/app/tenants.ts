// Tenants and API keys: used by the admin API and the admin CLI alike.
import { hash, randomBytes } from 'node:crypto';
import { type ApiKeyRecord, type SettingsInput, tenantDecider, tenantStream } from '../domain/tenant/index.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { DomainError } from '../domain/errors.ts';
import { handleCommand } from '../eventstore/handle-command.ts';
import { type NewId, randomId } from './ids.ts';
import type { EventMetadata, EventStore } from '../eventstore/port.ts';

export const API_KEY_PREFIX = '2fa_';

/** 2fa_ + 192 random bits (base64url). Shown once; only its hash is stored. */
export const generateApiKey = () => API_KEY_PREFIX + randomBytes(24).toString('base64url');
/** API keys carry ≥128 bits of entropy, so a fast unsalted hash is enough to make the stored value useless. */
export const hashApiKey = (key: string) => hash('sha256', key, 'hex');
export const generateWebhookSecret = () => 'whsec_' + randomBytes(32).toString('base64url');

const newKey = (keyId: string, name: string, now: number): { record: ApiKeyRecord; apiKey: string } => {
  const apiKey = generateApiKey();
  return { apiKey, record: { keyId, keyHash: hashApiKey(apiKey), prefix: apiKey.slice(0, 8), name, at: now } };
};

export type TenantService = ReturnType<typeof createTenantService>;

export type TenantServiceDeps = {
  store: EventStore;
  keyring: Keyring;
  now: () => number;
  newId?: NewId;
  /** What is wrong with a webhook URL as a target (SSRF rules, src/webhooks/egress.ts), or null. */
  webhookTargetProblem: (url: string) => Promise<string | null>;
};

export const createTenantService = (deps: TenantServiceDeps) => {
  const { store, keyring, now } = deps;
  /** A webhook URL that would reach a private or loopback address is refused when it is set. */
  const checkWebhookUrl = async (settings: SettingsInput | undefined) => {
    const url = settings?.webhookUrl;
    if (typeof url !== 'string' || !/^https?:\/\//i.test(url) || !URL.canParse(url)) return; // the aggregate refuses the rest
    const problem = await deps.webhookTargetProblem(url);
    if (problem) {
      throw new DomainError(
        'INVALID_ARGUMENT',
        `settings.webhookUrl: refused: ${problem}; a webhook receiver must have a public address (an operator may allow private targets with SECUREKEY_WEBHOOK_ALLOW_PRIVATE=true)`,
      );
    }
  };
  const newId = deps.newId ?? randomId;
  /** Letters and digits only (no "-" or "_"), so an id reads and selects as one word. */
  const idOf = (prefix: string) => prefix + newId().replace(/[-_]/g, 'x');
  const run = (tenantId: string, command: Parameters<typeof tenantDecider.decide>[0], metadata: EventMetadata) =>
    handleCommand(store, tenantStream(tenantId), tenantDecider, command, { metadata: { ...metadata, tenantId } });

  return {
    create: async (input: { name: string; webhookUrl?: string; settings?: SettingsInput }, metadata: EventMetadata = {}) => {
      const tenantId = idOf('tn_');
      const at = now();
      const { apiKey, record } = newKey(idOf('key_'), 'default', at);
      const settings = { ...input.settings, ...(input.webhookUrl ? { webhookUrl: input.webhookUrl } : {}) };
      await checkWebhookUrl(settings);
      const webhookSecret = typeof settings.webhookUrl === 'string' && settings.webhookUrl ? generateWebhookSecret() : undefined;
      const res = await run(
        tenantId,
        { type: 'CreateTenant', data: { tenantId, name: input.name ?? '', settings, key: record, webhookSecretEnc: webhookSecret && keyring.encrypt('webhook-secret', webhookSecret), now: at } },
        metadata,
      );
      return { tenantId, keyId: record.keyId, apiKey, webhookSecret, position: res.position };
    },
    issueKey: async (tenantId: string, name = 'default', metadata: EventMetadata = {}) => {
      const { apiKey, record } = newKey(idOf('key_'), name, now());
      const res = await run(tenantId, { type: 'IssueApiKey', data: { key: record, now: record.at } }, metadata);
      return { keyId: record.keyId, apiKey, position: res.position };
    },
    revokeKey: async (tenantId: string, keyId: string, metadata: EventMetadata = {}) => {
      const res = await run(tenantId, { type: 'RevokeApiKey', data: { keyId, now: now() } }, metadata);
      return { revoked: true, position: res.position };
    },
    /** Settings outside the table of settings.ts are refused by the aggregate, naming them. */
    changeSettings: async (tenantId: string, settings: SettingsInput, metadata: EventMetadata = {}) => {
      await checkWebhookUrl(settings);
      const res = await run(tenantId, { type: 'ChangeTenantSettings', data: { settings, now: now() } }, metadata);
      return { position: res.position };
    },
    /** The previous secret stops signing at once (instead of at the end of the grace period). */
    revokePreviousWebhookSecret: async (tenantId: string, metadata: EventMetadata = {}) => {
      const res = await run(tenantId, { type: 'RevokePreviousWebhookSecret', data: { now: now() } }, metadata);
      return { revoked: res.events.length > 0, position: res.position };
    },
    rotateWebhookSecret: async (tenantId: string, metadata: EventMetadata = {}) => {
      const webhookSecret = generateWebhookSecret();
      const res = await run(tenantId, { type: 'RotateWebhookSecret', data: { secretEnc: keyring.encrypt('webhook-secret', webhookSecret), now: now() } }, metadata);
      return { webhookSecret, position: res.position };
    },
  };
};
