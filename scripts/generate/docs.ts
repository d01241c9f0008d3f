// The generated parts of docs/: the tenant settings reference (docs/settings.md, all of it, from
// the tenant aggregate's table) and, in docs/api.md, the route tables (from the proto's route
// table) and the error table (from ERROR_MAP and ERROR_MEANING). Hand-written text around the
// generated sections of api.md stays as it is.
import { Code } from '@connectrpc/connect';
import type { DescMessage } from '@bufbuild/protobuf';
import { COMMON_ERRORS, ERROR_MEANING, ROUTE_ERRORS } from '../../src/api/error-docs.ts';
import { ERROR_MAP } from '../../src/api/errors.ts';
import { buildRoutes, type Route } from '../../src/api/routes.ts';
import { ERROR_CODES } from '../../src/domain/errors.ts';
import { expectedOf, TENANT_SETTINGS, type SettingGroup, type SettingSpec } from '../../src/domain/tenant/settings.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s}\``;
const table = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');

// ---- docs/settings.md

const GROUPS: Record<SettingGroup, string> = {
  general: 'General',
  privacy: 'Privacy (personal data)',
  limits: 'Rate limits (per window; see docs/security.md)',
  otp: 'One-time codes (SMS and email)',
  sms: 'SMS',
  totp: 'Authenticator apps (TOTP)',
  recovery: 'Recovery codes',
  webauthn: 'Passkeys (WebAuthn)',
  push: 'Push approval',
};

const defaultOf = (s: SettingSpec) => (s.default === null ? (s.defaultNote ?? 'none') : `${code(JSON.stringify(s.default))}${s.defaultNote ? ` (${s.defaultNote})` : ''}`);
const typeOf = (s: SettingSpec) => (s.unit ? `${s.type} (${s.unit})` : s.type);

export const renderSettingsDoc = (): string => {
  const specs = Object.entries(TENANT_SETTINGS) as [string, SettingSpec][];
  const sections = (Object.keys(GROUPS) as SettingGroup[]).flatMap((g) => {
    const rows = specs.filter(([, s]) => s.group === g).map(([name, s]) => [code(name), typeOf(s), expectedOf(s), defaultOf(s), s.description]);
    return rows.length ? [`## ${GROUPS[g]}`, '', table(['setting', 'type', 'accepts', 'default', 'meaning'], rows), ''] : [];
  });
  return [
    '<!-- GENERATED from src/domain/tenant/settings.ts by `npm run generate:files` (scripts/generate/docs.ts): do not edit. -->',
    '# Tenant settings',
    '',
    "Each tenant tunes its channels with these settings. The table below is generated from the tenant aggregate's own table",
    '(`src/domain/tenant/settings.ts`), which also validates every change: a value outside its type or range, or a name that is',
    'not a setting, is refused with `400 INVALID_ARGUMENT` naming it, and nothing is changed. An unset setting takes its default.',
    '',
    'Change them with the admin API or the CLI (both go through the tenant aggregate):',
    '',
    '```sh',
    "curl -s -X PATCH localhost:8080/api/v1/admin/tenants/$TENANT/settings -H \"X-Admin-Token: $SECUREKEY_ADMIN_TOKEN\" \\",
    "  -H 'content-type: application/json' -d '{\"settings\": {\"otpTtlSeconds\": 300, \"smsAllowedCountries\": [\"KR\", \"US\"]}}'",
    'npm run -s admin -- tenant settings --tenant $TENANT --set otpTtlSeconds=300 --set smsAllowedCountries=KR,US',
    'npm run -s admin -- settings list      # this table, in the terminal',
    '```',
    '',
    ...sections,
  ].join('\n');
};

// ---- docs/api.md (generated sections)

const grpcName = (c: Code) => Code[c].replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();

export const renderErrorTable = (): string =>
  table(
    ['code', 'HTTP', 'gRPC', 'meaning'],
    ERROR_CODES.map((c) => [code(c), String(ERROR_MAP[c].http), grpcName(ERROR_MAP[c].grpc), ERROR_MEANING[c]]),
  );

const fieldsOf = (m: DescMessage) => m.fields.map((f) => f.jsonName).join(', ') || '—';

const SERVICE_TITLES: Record<string, string> = {
  'securekey.v1.SmsOtpService': 'SMS codes',
  'securekey.v1.EmailOtpService': 'Email codes',
  'securekey.v1.TotpService': 'Authenticator apps (TOTP)',
  'securekey.v1.RecoveryService': 'Recovery codes',
  'securekey.v1.WebAuthnService': 'Passkeys (WebAuthn)',
  'securekey.v1.PushService': 'Push approval',
  'securekey.v1.UserService': 'Users: erasure and export (GDPR)',
  'securekey.v1.AdminService': 'Administration (X-Admin-Token)',
};

const routeRow = (r: Route): string[] => {
  const errors = ROUTE_ERRORS[r.service.typeName]?.[r.method.localName];
  if (!errors) throw new Error(`${r.service.typeName}.${r.method.name}: no entry in ROUTE_ERRORS (src/api/error-docs.ts)`);
  const limit = r.option.limit ? ` (${r.option.limit} limit)` : '';
  return [`${code(`${r.verb} ${r.path}`)}${limit}`, code(`${r.service.name}/${r.method.name}`), fieldsOf(r.method.input), fieldsOf(r.method.output), errors.map(code).join(', ') || '—'];
};

export const renderRouteTables = (): string => {
  const routes = buildRoutes();
  const services = [...new Set(routes.map((r) => r.service))];
  return services
    .map((s) =>
      [`### ${SERVICE_TITLES[s.typeName] ?? s.name}`, '', table(['route', 'RPC (gRPC / Connect)', 'request fields', '`data` fields', 'errors besides the common ones'], routes.filter((r) => r.service === s).map(routeRow))].join('\n'),
    )
    .join('\n\n');
};

export const renderCommonErrors = (): string => COMMON_ERRORS.map(code).join(', ');

/** Replaces the body of each `<!-- generated: NAME -->` … `<!-- /generated -->` section of `text`. */
export const fillSections = (text: string, sections: Record<string, () => string>): string => {
  const seen = new Set<string>();
  const out = text.replace(/(<!-- generated: ([\w-]+) -->\n)[\s\S]*?(<!-- \/generated -->)/g, (_, open: string, name: string, close: string) => {
    const render = sections[name];
    if (!render) throw new Error(`unknown generated section "${name}"`);
    seen.add(name);
    return `${open}${render()}\n${close}`;
  });
  const missing = Object.keys(sections).filter((n) => !seen.has(n));
  if (missing.length) throw new Error(`generated sections missing from the document: ${missing.join(', ')}`);
  return out;
};

export const API_SECTIONS = { routes: renderRouteTables, 'common-errors': renderCommonErrors, errors: renderErrorTable };
