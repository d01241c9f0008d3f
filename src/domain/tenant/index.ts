// The Tenant aggregate: created, API keys issued and revoked, settings changed, webhook secret
// rotated. API keys appear only as a SHA-256 hash and a short display prefix; the webhook
// secret only encrypted.
import { assertNever, type Decider } from '../decider.ts';
import { DomainError } from '../errors.ts';

/** Tenant settings as proto3 JSON (lowerCamelCase), partial: unset means the channel default. */
export type TenantSettings = {
  webhookUrl?: string;
  brandName?: string;
  otpWebDomain?: string;
  otpLength?: number;
  otpTtlSeconds?: number;
  otpMaxAttempts?: number;
  otpResendCooldownSeconds?: number;
  smsPerDestinationHour?: number;
  smsPerDestinationDay?: number;
  smsDailyQuota?: number;
  smsAllowedCountries?: string[];
  defaultRegion?: string;
  totpIssuer?: string;
  webauthnRpId?: string;
  webauthnRpName?: string;
  webauthnOrigins?: string[];
  pushTtlSeconds?: number;
  pushNumberMatching?: boolean;
  pushMaxPending?: number;
};

export type ApiKeyRecord = { keyId: string; keyHash: string; prefix: string; name: string; at: number };

export type TenantEvent =
  | { type: 'TenantCreated'; data: { tenantId: string; name: string; settings: TenantSettings; at: number } }
  | { type: 'ApiKeyIssued'; data: ApiKeyRecord & { tenantId: string } }
  | { type: 'ApiKeyRevoked'; data: { tenantId: string; keyId: string; at: number } }
  | { type: 'TenantSettingsChanged'; data: { tenantId: string; settings: TenantSettings; at: number } }
  | { type: 'WebhookSecretRotated'; data: { tenantId: string; secretEnc: string; at: number } };

export type TenantCommand =
  | { type: 'CreateTenant'; data: { tenantId: string; name: string; settings: TenantSettings; key: ApiKeyRecord; webhookSecretEnc?: string; now: number } }
  | { type: 'IssueApiKey'; data: { key: ApiKeyRecord; now: number } }
  | { type: 'RevokeApiKey'; data: { keyId: string; now: number } }
  | { type: 'ChangeTenantSettings'; data: { settings: TenantSettings; now: number } }
  | { type: 'RotateWebhookSecret'; data: { secretEnc: string; now: number } };

export type TenantState =
  | { status: 'none' }
  | {
      status: 'active';
      tenantId: string;
      name: string;
      settings: TenantSettings;
      keys: Map<string, { revoked: boolean }>;
      hasWebhookSecret: boolean;
    };

export const tenantStream = (tenantId: string) => `tenant-${tenantId}`;

const MAX_NAME = 100;
const REGION = /^[A-Z]{2}$/;

/** Checks settings; returns them with empty optional values removed. Messages say what was expected. */
export const validateSettings = (s: TenantSettings): TenantSettings => {
  const out: TenantSettings = {};
  const bad = (field: string, expected: string) => {
    throw new DomainError('INVALID_ARGUMENT', `settings.${field}: expected ${expected}`);
  };
  for (const [k, v] of Object.entries(s) as [keyof TenantSettings, unknown][]) {
    if (v === undefined || v === null) continue;
    switch (k) {
      case 'webhookUrl': {
        if (typeof v !== 'string') bad(k, 'a URL');
        if (v === '') {
          out.webhookUrl = ''; // clears it
          break;
        }
        let u: URL | undefined;
        try {
          u = new URL(v as string);
        } catch {
          bad(k, 'an absolute http(s) URL');
        }
        if (!u || !/^https?:$/.test(u.protocol)) bad(k, 'an absolute http(s) URL');
        out.webhookUrl = v as string;
        break;
      }
      case 'otpLength':
        if (!Number.isInteger(v) || (v as number) < 4 || (v as number) > 10) bad(k, 'an integer from 4 to 10');
        out[k] = v as number;
        break;
      case 'otpTtlSeconds':
      case 'pushTtlSeconds':
        if (!Number.isInteger(v) || (v as number) < 30 || (v as number) > 3600) bad(k, 'an integer from 30 to 3600');
        out[k] = v as number;
        break;
      case 'otpMaxAttempts':
      case 'otpResendCooldownSeconds':
      case 'smsPerDestinationHour':
      case 'smsPerDestinationDay':
      case 'smsDailyQuota':
      case 'pushMaxPending':
        if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 10_000_000) bad(k, 'a non-negative integer');
        out[k] = v as number;
        break;
      case 'smsAllowedCountries':
        if (!Array.isArray(v) || !v.every((c) => typeof c === 'string' && REGION.test(c.toUpperCase()))) bad(k, 'ISO 3166 alpha-2 region codes like "KR"');
        out[k] = (v as string[]).map((c) => c.toUpperCase());
        break;
      case 'defaultRegion':
        if (typeof v !== 'string' || !REGION.test(v.toUpperCase())) bad(k, 'an ISO 3166 alpha-2 region code like "KR"');
        out[k] = (v as string).toUpperCase();
        break;
      case 'webauthnOrigins':
        if (!Array.isArray(v) || !v.every((o) => typeof o === 'string' && /^https?:\/\/[^/]+$/.test(o))) bad(k, 'origins like "https://example.com" (scheme://host[:port], no path)');
        out[k] = v as string[];
        break;
      case 'otpWebDomain':
        if (typeof v !== 'string' || (v !== '' && !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(v))) bad(k, 'a domain name like "example.com"');
        out[k] = (v as string).toLowerCase();
        break;
      case 'brandName':
      case 'totpIssuer':
      case 'webauthnRpId':
      case 'webauthnRpName':
        if (typeof v !== 'string' || v.length > MAX_NAME) bad(k, `a string of at most ${MAX_NAME} characters`);
        if (v !== '') out[k] = v as string;
        break;
      case 'pushNumberMatching':
        if (typeof v !== 'boolean') bad(k, 'true or false');
        out[k] = v as boolean;
        break;
      default:
        assertNever(k);
    }
  }
  return out;
};

export const tenantDecider: Decider<TenantCommand, TenantEvent, TenantState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'TenantCreated':
        return { status: 'active', tenantId: event.data.tenantId, name: event.data.name, settings: event.data.settings, keys: new Map(), hasWebhookSecret: false };
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
        return { ...state, hasWebhookSecret: true };
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
      default:
        return assertNever(command);
    }
  },
};
