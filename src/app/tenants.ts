// Tenants and API keys: used by the admin API and the admin CLI alike.
import { createHash, randomBytes } from 'node:crypto';
import { type ApiKeyRecord, type TenantSettings, tenantDecider, tenantStream, validateSettings } from '../domain/tenant/index.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { handleCommand, loadState } from '../eventstore/handle-command.ts';
import { otpSettingsFromTenant, resolveOtpSettings } from './otp.ts';
import { DomainError } from '../domain/errors.ts';
import type { EventMetadata, EventStore } from '../eventstore/port.ts';

export const API_KEY_PREFIX = '2fa_';

/** 2fa_ + 192 random bits (base64url). Shown once; only its hash is stored. */
export const generateApiKey = () => API_KEY_PREFIX + randomBytes(24).toString('base64url');
/** API keys carry ≥128 bits of entropy, so a fast unsalted hash is enough to make the stored value useless. */
export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');
export const generateWebhookSecret = () => 'whsec_' + randomBytes(32).toString('base64url');
const newId = (prefix: string) => prefix + randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');

const newKey = (name: string, now: number): { record: ApiKeyRecord; apiKey: string } => {
  const apiKey = generateApiKey();
  return { apiKey, record: { keyId: newId('key_'), keyHash: hashApiKey(apiKey), prefix: apiKey.slice(0, 8), name, at: now } };
};

export type TenantService = ReturnType<typeof createTenantService>;

export const createTenantService = (deps: { store: EventStore; keyring: Keyring; now: () => number }) => {
  const { store, keyring, now } = deps;
  /** Settings a channel would refuse are refused here, before they can break every call of the tenant. */
  const checkChannels = (settings: TenantSettings) => {
    resolveOtpSettings(otpSettingsFromTenant(validateSettings(settings)));
  };
  const run = (tenantId: string, command: Parameters<typeof tenantDecider.decide>[0], metadata: EventMetadata) =>
    handleCommand(store, tenantStream(tenantId), tenantDecider, command, { metadata: { ...metadata, tenantId } });

  return {
    create: async (input: { name: string; webhookUrl?: string; settings?: TenantSettings }, metadata: EventMetadata = {}) => {
      const tenantId = newId('tn_');
      const at = now();
      const { apiKey, record } = newKey('default', at);
      const settings = { ...input.settings, ...(input.webhookUrl ? { webhookUrl: input.webhookUrl } : {}) };
      checkChannels(settings);
      const webhookSecret = settings.webhookUrl ? generateWebhookSecret() : undefined;
      const res = await run(
        tenantId,
        { type: 'CreateTenant', data: { tenantId, name: input.name ?? '', settings, key: record, webhookSecretEnc: webhookSecret && keyring.encrypt('webhook-secret', webhookSecret), now: at } },
        metadata,
      );
      return { tenantId, keyId: record.keyId, apiKey, webhookSecret, position: res.position };
    },
    issueKey: async (tenantId: string, name = 'default', metadata: EventMetadata = {}) => {
      const { apiKey, record } = newKey(name, now());
      const res = await run(tenantId, { type: 'IssueApiKey', data: { key: record, now: record.at } }, metadata);
      return { keyId: record.keyId, apiKey, position: res.position };
    },
    revokeKey: async (tenantId: string, keyId: string, metadata: EventMetadata = {}) => {
      const res = await run(tenantId, { type: 'RevokeApiKey', data: { keyId, now: now() } }, metadata);
      return { revoked: true, position: res.position };
    },
    changeSettings: async (tenantId: string, settings: TenantSettings, metadata: EventMetadata = {}) => {
      const { state } = await loadState(store, tenantStream(tenantId), tenantDecider);
      if (state.status !== 'active') throw new DomainError('TENANT_NOT_FOUND', 'no such tenant');
      checkChannels({ ...state.settings, ...settings });
      const res = await run(tenantId, { type: 'ChangeTenantSettings', data: { settings, now: now() } }, metadata);
      return { position: res.position };
    },
    rotateWebhookSecret: async (tenantId: string, metadata: EventMetadata = {}) => {
      const webhookSecret = generateWebhookSecret();
      const res = await run(tenantId, { type: 'RotateWebhookSecret', data: { secretEnc: keyring.encrypt('webhook-secret', webhookSecret), now: now() } }, metadata);
      return { webhookSecret, position: res.position };
    },
  };
};
