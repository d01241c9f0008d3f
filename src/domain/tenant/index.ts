// The Tenant aggregate: created, API keys issued and revoked, settings changed, webhook secret
// rotated. API keys appear only as a SHA-256 hash and a short display prefix; the webhook
// secret only encrypted. The aggregate is the authority on its settings: every name, type and
// range is in the one table of settings.ts, and decide refuses anything outside it.
import { assertNever, type Decider } from '../decider.ts';
import { DomainError } from '../errors.ts';
import { type TenantSettings, validateSettings } from './settings.ts';

export * from './settings.ts';

export type ApiKeyRecord = { keyId: string; keyHash: string; prefix: string; name: string; at: number };

export type TenantEvent =
  | { type: 'TenantCreated'; data: { tenantId: string; name: string; settings: TenantSettings; at: number } }
  | { type: 'ApiKeyIssued'; data: ApiKeyRecord & { tenantId: string } }
  | { type: 'ApiKeyRevoked'; data: { tenantId: string; keyId: string; at: number } }
  | { type: 'TenantSettingsChanged'; data: { tenantId: string; settings: TenantSettings; at: number } }
  | { type: 'WebhookSecretRotated'; data: { tenantId: string; secretEnc: string; at: number } }
  /** The previous webhook secret stops signing now, not at the end of the rotation's grace period. */
  | { type: 'PreviousWebhookSecretRevoked'; data: { tenantId: string; at: number } };

/** Settings arrive as given (unknown names included) and are checked by decide. */
export type SettingsInput = Readonly<Record<string, unknown>>;

export type TenantCommand =
  | { type: 'CreateTenant'; data: { tenantId: string; name: string; settings: SettingsInput; key: ApiKeyRecord; webhookSecretEnc?: string; now: number } }
  | { type: 'IssueApiKey'; data: { key: ApiKeyRecord; now: number } }
  | { type: 'RevokeApiKey'; data: { keyId: string; now: number } }
  | { type: 'ChangeTenantSettings'; data: { settings: SettingsInput; now: number } }
  | { type: 'RotateWebhookSecret'; data: { secretEnc: string; now: number } }
  | { type: 'RevokePreviousWebhookSecret'; data: { now: number } };

export type TenantState =
  | { status: 'none' }
  | {
      status: 'active';
      tenantId: string;
      name: string;
      settings: TenantSettings;
      keys: Map<string, { revoked: boolean }>;
      hasWebhookSecret: boolean;
      /** A rotation left a previous secret that still signs (until revoked or its grace ends). */
      hasPreviousWebhookSecret: boolean;
    };

export const tenantStream = (tenantId: string) => `tenant-${tenantId}`;

const MAX_NAME = 100;

export const tenantDecider: Decider<TenantCommand, TenantEvent, TenantState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'TenantCreated':
        return { status: 'active', tenantId: event.data.tenantId, name: event.data.name, settings: event.data.settings, keys: new Map(), hasWebhookSecret: false, hasPreviousWebhookSecret: false };
      case 'ApiKeyIssued':
        if (state.status !== 'active') return state;
        return { ...state, keys: new Map(state.keys).set(event.data.keyId, { revoked: false }) };
      case 'ApiKeyRevoked':
        if (state.status !== 'active') return state;
        return { ...state, keys: new Map(state.keys).set(event.data.keyId, { revoked: true }) };
      case 'TenantSettingsChanged':
        if (state.status !== 'active') return state;
        return { ...state, settings: { ...state.settings, ...event.data.settings } };
      case 'WebhookSecretRotated':
        if (state.status !== 'active') return state;
        return { ...state, hasWebhookSecret: true, hasPreviousWebhookSecret: state.hasWebhookSecret };
      case 'PreviousWebhookSecretRevoked':
        if (state.status !== 'active') return state;
        return { ...state, hasPreviousWebhookSecret: false };
      default:
        return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'CreateTenant': {
        if (state.status !== 'none') throw new DomainError('CONFLICT', 'tenant already exists');
        const { tenantId, name, key, now, webhookSecretEnc } = command.data;
        const trimmed = name.trim();
        if (!trimmed || trimmed.length > MAX_NAME) throw new DomainError('INVALID_ARGUMENT', `name: expected 1 to ${MAX_NAME} characters`);
        const settings = validateSettings(command.data.settings);
        const events: TenantEvent[] = [
          { type: 'TenantCreated', data: { tenantId, name: trimmed, settings, at: now } },
          { type: 'ApiKeyIssued', data: { ...key, tenantId } },
        ];
        if (webhookSecretEnc) events.push({ type: 'WebhookSecretRotated', data: { tenantId, secretEnc: webhookSecretEnc, at: now } });
        return events;
      }
      case 'IssueApiKey': {
        if (state.status !== 'active') throw new DomainError('TENANT_NOT_FOUND', 'no such tenant');
        if (command.data.key.name.length > MAX_NAME) throw new DomainError('INVALID_ARGUMENT', `name: expected at most ${MAX_NAME} characters`);
        return [{ type: 'ApiKeyIssued', data: { ...command.data.key, tenantId: state.tenantId } }];
      }
      case 'RevokeApiKey': {
        if (state.status !== 'active') throw new DomainError('TENANT_NOT_FOUND', 'no such tenant');
        const key = state.keys.get(command.data.keyId);
        if (!key) throw new DomainError('NOT_FOUND', `no key ${command.data.keyId} on this tenant`);
        if (key.revoked) return [];
        return [{ type: 'ApiKeyRevoked', data: { tenantId: state.tenantId, keyId: command.data.keyId, at: command.data.now } }];
      }
      case 'ChangeTenantSettings': {
        if (state.status !== 'active') throw new DomainError('TENANT_NOT_FOUND', 'no such tenant');
        const settings = validateSettings(command.data.settings);
        if (Object.keys(settings).length === 0 && Object.keys(command.data.settings).length === 0) return [];
        return [{ type: 'TenantSettingsChanged', data: { tenantId: state.tenantId, settings, at: command.data.now } }];
      }
      case 'RotateWebhookSecret': {
        if (state.status !== 'active') throw new DomainError('TENANT_NOT_FOUND', 'no such tenant');
        return [{ type: 'WebhookSecretRotated', data: { tenantId: state.tenantId, secretEnc: command.data.secretEnc, at: command.data.now } }];
      }
      case 'RevokePreviousWebhookSecret': {
        if (state.status !== 'active') throw new DomainError('TENANT_NOT_FOUND', 'no such tenant');
        if (!state.hasPreviousWebhookSecret) return []; // nothing signs with an old secret
        return [{ type: 'PreviousWebhookSecretRevoked', data: { tenantId: state.tenantId, at: command.data.now } }];
      }
      default:
        return assertNever(command);
    }
  },
};
