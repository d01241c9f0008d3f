// `npm run admin -- settings list` and `tenant settings --tenant T [--set name=value ...]`: the
// table of tenant settings (src/domain/tenant/settings.ts), and one tenant's settings, changed
// through the tenant aggregate like the admin API does. Values are read by the table's types.
import type { TenantService } from '../app/tenants.ts';
import { DomainError } from '../domain/errors.ts';
import { expectedOf, parseSettingText, type SettingSpec, TENANT_SETTINGS, tenantDecider, tenantStream } from '../domain/tenant/index.ts';
import { loadState } from '../eventstore/handle-command.ts';
import type { EventStore } from '../eventstore/port.ts';

export const SETTINGS_HELP = `  settings list [--json]                                   every tenant setting: type, range, default and meaning
  tenant settings --tenant T [--set NAME=VALUE ...] [--json]
                                                           show a tenant's settings, or change them (lists comma-separated,
                                                           e.g. --set smsAllowedCountries=KR,US; an empty value clears a text)`;

export const SETTINGS_OPTIONS = { set: { type: 'string', multiple: true } } as const;

type Out = (human: string, json: Record<string, unknown>) => void;

const defaultOf = (s: SettingSpec) => s.defaultNote ?? JSON.stringify(s.default);

export const runSettingsList = (out: Out): number => {
  const rows = Object.entries(TENANT_SETTINGS).map(([name, s]: [string, SettingSpec]) => ({ name, ...s }));
  out(rows.map((r) => `${r.name} (${expectedOf(r)}; default ${defaultOf(r)})\n    ${r.description}`).join('\n'), { settings: rows });
  return 0;
};

/** "name=value" pairs → a settings object; the aggregate checks names and values. */
export const settingsFromArgs = (pairs: readonly string[]): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new DomainError('INVALID_ARGUMENT', `--set: expected NAME=VALUE, got ${JSON.stringify(p.slice(0, 40))}`);
    out[p.slice(0, eq).trim()] = parseSettingText(p.slice(0, eq).trim(), p.slice(eq + 1));
  }
  return out;
};

export const runTenantSettings = async (
  args: { tenant?: string; set?: string[] },
  deps: { store: EventStore; tenants: TenantService; out: Out; need: (v: string | undefined, flag: string) => string; meta: Record<string, unknown> },
): Promise<number> => {
  const tenantId = deps.need(args.tenant, 'tenant');
  if (args.set?.length) await deps.tenants.changeSettings(tenantId, settingsFromArgs(args.set), deps.meta);
  const { state } = await loadState(deps.store, tenantStream(tenantId), tenantDecider);
  if (state.status !== 'active') throw new DomainError('TENANT_NOT_FOUND', `no tenant ${tenantId}`);
  const lines = Object.entries(state.settings).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
  deps.out(lines.length ? lines.join('\n') : `${tenantId} uses every default (npm run admin -- settings list)`, { tenantId, settings: state.settings });
  return 0;
};
