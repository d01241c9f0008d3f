// AdminService: tenants, keys and settings (policies, webhooks and audit come with their issues).
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { DatabaseSync } from 'node:sqlite';
import type { TenantService } from '../../app/tenants.ts';
import type { LimitsReset } from '../../app/limits.ts';
import type { PolicyService } from '../../app/policy.ts';
import type { ReadYourWrites } from '../../app/read-models.ts';
import type { MfaPolicy } from '../../domain/policy/index.ts';
import { DomainError } from '../../domain/errors.ts';
import { CHANNELS } from '../../domain/channel.ts';
import { type SettingName, unknownSettings, type SettingsInput } from '../../domain/tenant/index.ts';
import { expectedOf, type SettingSpec, TENANT_SETTINGS } from '../../domain/tenant/settings.ts';
import type { TenantSettings as TenantSettingsMessage } from '../../gen/securekey/v1/admin_pb.js';
import { getTenant, listKeys, listTenants, type TenantRow } from '../../../projections/tenants/index.ts';
import { requestInfoKey, unknownFieldsKey } from '../context.ts';
import { listDeliveries, redeliver, DELIVERY_STATUSES, type DeliveryStatus } from '../../webhooks/deliveries.ts';
import { openAuditRecord, queryAudit } from '../../../projections/audit/index.ts';
import type { UserKeys } from '../../app/user-keys.ts';
import type { PersonalData } from '../../privacy/personal-data.ts';
import { deliveryMessage } from './admin-webhooks.ts';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { AdminService } from '../../gen/securekey/v1/admin_pb.js';

export type AdminDeps = {
  tenants: TenantService;
  policies: PolicyService;
  readDb: () => DatabaseSync;
  /** The shared webhook-deliveries database, and the worker to wake after a redeliver. */
  webhookDb: () => DatabaseSync;
  webhooks: { kick: () => void };
  now: () => number;
  /** Tenant writes are read back from the tenants read model (the next call authenticates with it). */
  readModels: ReadYourWrites;
  /** The audit trail's personal values are sealed: opened here, found by the user's stream keys. */
  personal: Pick<PersonalData, 'openValue'>;
  users: Pick<UserKeys, 'all'>;
  resetLimits: LimitsReset;
};

const tenantView = (db: DatabaseSync, t: TenantRow) => ({
  tenantId: t.tenantId,
  name: t.name,
  createdAt: timestampFromMs(t.createdAt),
  settings: t.settings,
  hasWebhookSecret: !!t.webhookSecretEnc,
  keys: listKeys(db, t.tenantId).map((k) => ({ keyId: k.keyId, name: k.name, prefix: k.prefix, createdAt: timestampFromMs(k.createdAt), revoked: k.revoked })),
});

const required = (v: string, name: string) => {
  if (!v) throw new DomainError('INVALID_ARGUMENT', `${name} is required`);
  return v;
};

/** The proto's TenantSettings message and the table of settings name the same settings: tsc
 * fails here when one of them gains, loses or renames a setting. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
true satisfies Same<Exclude<keyof TenantSettingsMessage, '$typeName' | '$unknown'>, SettingName>;

/** Proto message → plain settings object (only the fields that were set). Names the message does
 * not declare (dropped by the transcoder) are refused, named, as the aggregate refuses them. */
const settingsOf = (s: Record<string, unknown> | undefined, ctx: HandlerContext): SettingsInput => {
  const unknown = ctx.values.get(unknownFieldsKey).filter((p) => p.startsWith('settings.')).map((p) => p.slice('settings.'.length));
  if (unknown.length) throw unknownSettings(unknown);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s ?? {})) {
    if (k === '$typeName' || v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
};

const policyView = (p: MfaPolicy) => ({ name: p.name, match: { purpose: p.match.purpose ?? '', channels: p.match.channels ?? [] }, requiredChannels: p.requiredChannels, withinSeconds: p.withinSeconds });

const meta = (ctx: HandlerContext) => ({ requestId: ctx.values.get(requestInfoKey).requestId, actor: 'admin' });

/** The settings table as the proto's SettingSchema list. */
const settingsSchema = () =>
  (Object.entries(TENANT_SETTINGS) as [SettingName, SettingSpec][]).map(([name, spec]) => ({
    name,
    type: spec.type,
    group: spec.group,
    description: spec.description,
    defaultJson: spec.default === null ? '' : JSON.stringify(spec.default),
    defaultNote: spec.defaultNote ?? '',
    min: spec.min,
    max: spec.max,
    unit: spec.unit ?? '',
    maxLength: spec.maxLength,
    accepts: expectedOf(spec),
  }));

/** Tenants, keys, settings, policies, the webhook log and the audit trail (the statistics, one
 * delivery and endpoint health, and the system view have files of their own). */
export const createAdminImpl = (
  deps: AdminDeps,
): Omit<ServiceImpl<typeof AdminService>, 'getOtpStats' | 'getInsights' | 'getWebhookDelivery' | 'getWebhookEndpointHealth' | 'getServerMetrics' | 'getSystemStatus'> => {
  const mustGet = (tenantId: string) => {
    const db = deps.readDb();
    const t = getTenant(db, required(tenantId, 'tenantId'));
    if (!t) throw new DomainError('TENANT_NOT_FOUND', 'no such tenant');
    return tenantView(db, t);
  };
  return {
    createTenant: async (req, ctx) => {
      const settings = settingsOf(req.settings, ctx);
      const res = await deps.readModels.command(['tenants'], () => deps.tenants.create({ name: req.name, webhookUrl: req.webhookUrl || undefined, settings }, meta(ctx)));
      return { tenantId: res.tenantId, keyId: res.keyId, apiKey: res.apiKey, webhookSecret: res.webhookSecret ?? '' };
    },
    listTenants: async () => {
      const db = deps.readDb();
      return { tenants: listTenants(db).map((t) => tenantView(db, t)) };
    },
    getTenant: async (req) => mustGet(req.tenantId),
    getSettingsSchema: async () => ({ settings: settingsSchema() }),
    updateTenantSettings: async (req, ctx) => {
      mustGet(req.tenantId);
      const settings = settingsOf(req.settings, ctx);
      if (Object.keys(settings).length === 0) throw new DomainError('INVALID_ARGUMENT', 'expected {"settings": {...}} with at least one setting (see TenantSettings in the OpenAPI document)');
      await deps.readModels.command(['tenants'], () => deps.tenants.changeSettings(req.tenantId, settings, meta(ctx)));
      return mustGet(req.tenantId);
    },
    issueKey: async (req, ctx) => {
      mustGet(req.tenantId);
      const res = await deps.readModels.command(['tenants'], () => deps.tenants.issueKey(req.tenantId, req.name || 'default', meta(ctx)));
      return { keyId: res.keyId, apiKey: res.apiKey };
    },
    revokeKey: async (req, ctx) => {
      mustGet(req.tenantId);
      await deps.readModels.command(['tenants'], () => deps.tenants.revokeKey(req.tenantId, required(req.keyId, 'keyId'), meta(ctx)));
      return { revoked: true };
    },
    rotateWebhookSecret: async (req, ctx) => {
      mustGet(req.tenantId);
      const res = await deps.readModels.command(['tenants'], () => deps.tenants.rotateWebhookSecret(req.tenantId, meta(ctx)));
      return { webhookSecret: res.webhookSecret };
    },
    resetTenantLimits: async (req, ctx) => {
      const tenant = getTenant(deps.readDb(), required(req.tenantId, 'tenantId'));
      if (!tenant) throw new DomainError('TENANT_NOT_FOUND', 'no such tenant');
      const input = { phone: req.phone || undefined, email: req.email || undefined, userId: req.userId || undefined };
      const r = await deps.readModels.command(['otp-counters'], () => deps.resetLimits(tenant.tenantId, input, { settings: tenant.settings, metadata: meta(ctx) }));
      return { phoneReset: r.phoneReset, emailReset: r.emailReset, totpReset: r.totpReset };
    },
    revokePreviousWebhookSecret: async (req, ctx) => {
      mustGet(req.tenantId);
      // Answered once the deliveries' read model has it: no delivery after this signs with the old secret.
      const res = await deps.readModels.command(['webhooks'], () => deps.tenants.revokePreviousWebhookSecret(req.tenantId, meta(ctx)));
      return { revoked: res.revoked };
    },
    listWebhookDeliveries: async (req) => {
      mustGet(req.tenantId);
      if (req.status && !DELIVERY_STATUSES.includes(req.status as DeliveryStatus)) throw new DomainError('INVALID_ARGUMENT', `status: expected one of ${DELIVERY_STATUSES.join(', ')}`);
      await deps.readModels.current(['webhooks']);
      const r = listDeliveries(deps.webhookDb(), { tenantId: req.tenantId, status: (req.status || undefined) as DeliveryStatus | undefined, limit: req.limit || undefined, pageToken: req.pageToken || undefined });
      return {
        nextPageToken: r.nextPageToken,
        deliveries: r.deliveries.map(deliveryMessage),
      };
    },
    redeliverWebhook: async (req) => {
      mustGet(req.tenantId);
      if (!redeliver(deps.webhookDb(), { tenantId: req.tenantId, deliveryId: required(req.deliveryId, 'deliveryId'), now: deps.now() })) throw new DomainError('NOT_FOUND', 'no such delivery for this tenant');
      deps.webhooks.kick();
      return { queued: true };
    },
    queryAudit: async (req) => {
      mustGet(req.tenantId);
      if (req.channel && !(CHANNELS as readonly string[]).includes(req.channel)) throw new DomainError('INVALID_ARGUMENT', `channel: expected one of ${CHANNELS.join(', ')}, or empty for any`);
      if (!/^[a-z_]{0,40}$/.test(req.outcome)) throw new DomainError('INVALID_ARGUMENT', 'outcome: expected an outcome such as success, failure or locked, or empty for any');
      await deps.readModels.current(['audit']);
      const r = queryAudit(deps.readDb(), {
        tenantId: req.tenantId,
        user: req.userId ? { userId: req.userId, userKeys: await deps.users.all(req.tenantId, req.userId) } : undefined,
        channel: req.channel || undefined,
        outcome: req.outcome || undefined,
        from: req.from ? timestampMs(req.from) : undefined,
        to: req.to ? timestampMs(req.to) : undefined,
        limit: req.limit || undefined,
        pageToken: req.pageToken || undefined,
      });
      return {
        nextPageToken: r.nextPageToken,
        records: r.records.map((record) => openAuditRecord(record, deps.personal.openValue)).map((a) => ({
          position: BigInt(a.position),
          at: timestampFromMs(a.at),
          tenantId: a.tenantId,
          keyId: a.keyId ?? a.actor ?? '',
          userId: a.userId ?? '',
          action: a.action,
          channel: a.channel ?? '',
          outcome: a.outcome,
          clientIp: a.clientIp ?? '',
          destination: a.destination ?? '',
          eventType: a.eventType,
          actor: a.actor ?? '',
          requestId: a.requestId ?? '',
        })),
      };
    },
    putPolicy: async (req, ctx) => {
      mustGet(req.tenantId);
      const p = await deps.policies.put(
        req.tenantId,
        { name: req.name, match: { purpose: req.match?.purpose || undefined, channels: req.match?.channels ?? [] }, requiredChannels: req.requiredChannels, withinSeconds: req.withinSeconds || undefined },
        meta(ctx),
      );
      return policyView(p);
    },
    listPolicies: async (req) => {
      mustGet(req.tenantId);
      return { policies: (await deps.policies.list(req.tenantId)).map(policyView) };
    },
    deletePolicy: async (req, ctx) => {
      mustGet(req.tenantId);
      await deps.policies.delete(req.tenantId, required(req.name, 'name'), meta(ctx));
      return { deleted: true };
    },
  };
};
