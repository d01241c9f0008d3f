// The admin CLI's commands (entry point: main.ts). It works directly on the event store (the same
// data directory as the server, which may be running): what it writes reaches the server's read
// models through the store's subscription.
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../config.ts';
import { DomainError } from '../domain/errors.ts';
import { checkWebhookUrl } from '../webhooks/egress.ts';
import { createTenantService } from '../app/tenants.ts';
import { openStore } from '../eventstore/open.ts';
import { listTenantsFromLog } from './tenants-from-log.ts';
import { POLICY_HELP, POLICY_OPTIONS, runPolicyCommand } from './policies.ts';
import { AUDIT_HELP, AUDIT_OPTIONS, runAuditExport, runHistory } from './audit.ts';
import { REPLAY_HELP, REPLAY_OPTIONS, runReplay, runVerifyChain, type CliContext } from './replay.ts';
import { WEBHOOKS_HELP, WEBHOOKS_OPTIONS, runWebhooksCommand } from './webhooks.ts';
import { SETTINGS_HELP, SETTINGS_OPTIONS, runSettingsList, runTenantSettings } from './settings.ts';
import { LIMITS_HELP, LIMITS_OPTIONS, runLimitsReset } from './limits.ts';
import { StoreUnavailableError } from '../eventstore/port.ts';
import { chooseDataDir, refusal } from './data-dir.ts';
import { PRIVACY_HELP, PRIVACY_OPTIONS, runMasterKeyRotate, runRetentionNow, runUserCommand } from './privacy.ts';
import { openPrivacy } from '../privacy/open.ts';
import { KeyStoreMissingError, WrongMasterKeyError } from '../privacy/vault.ts';

/** KurrentDB with the server's master key given in the environment: whether the store already has events. */
const kurrentHasEvents = async (env: Record<string, string | undefined>): Promise<boolean> => {
  const eventStore = env.SECUREKEY_EVENTSTORE;
  if (!eventStore || eventStore === 'sqlite' || !env.SECUREKEY_MASTER_KEY) return false;
  const store = await openStore({ eventStore, dataDir: env.SECUREKEY_DATA_DIR! });
  try {
    return (await store.headPosition()) > 0;
  } catch {
    return false;
  } finally {
    await store.close();
  }
};

const HELP = `SecureKey admin

Usage: npm run admin -- <command> [options]

  tenant create --name NAME [--webhook-url URL] [--json]   create a tenant; prints its first API key (shown once)
  tenant list [--json]                                     list tenants and their keys (never the keys themselves)
  key issue --tenant TENANT_ID [--name NAME] [--json]      issue another API key (shown once)
  key revoke --tenant TENANT_ID --key KEY_ID [--json]      revoke a key; the server refuses it within a second
${SETTINGS_HELP}
${LIMITS_HELP}
${POLICY_HELP}
${WEBHOOKS_HELP}
${AUDIT_HELP}
${REPLAY_HELP}
${PRIVACY_HELP}

Options for every command that reads or writes data:
  --data-dir DIR    the server's data directory (default: SECUREKEY_DATA_DIR, else ./data)
  --init            allow a directory that holds no SecureKey data yet (a new installation)

The CLI must work on the server's data directory and master key (SECUREKEY_DATA_DIR,
SECUREKEY_MASTER_KEY, SECUREKEY_EVENTSTORE as the server has them). It says on stderr which
directory it uses, and refuses one without SecureKey data unless you name it with --data-dir or
pass --init: keys created elsewhere would be refused by the server with 401.`;

type Out = (human: string, json: Record<string, unknown>) => void;

const run = async (argv: string[]) => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'webhook-url': { type: 'string' },
      tenant: { type: 'string' },
      key: { type: 'string' },
      ...POLICY_OPTIONS,
      ...AUDIT_OPTIONS,
      ...WEBHOOKS_OPTIONS,
      ...REPLAY_OPTIONS,
      ...SETTINGS_OPTIONS,
      ...PRIVACY_OPTIONS,
      ...LIMITS_OPTIONS,
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      init: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [noun, verb] = positionals;
  if (values.help || !noun) {
    console.log(HELP);
    return 0;
  }
  const out: Out = (human, json) => console.log(values.json ? JSON.stringify(json) : human);
  const need = (v: string | undefined, flag: string): string => {
    if (!v) throw new DomainError('INVALID_ARGUMENT', `--${flag} is required (see --help)`);
    return v;
  };

  if (`${noun} ${verb ?? ''}`.trim() === 'settings list') return runSettingsList(out); // static: no data involved

  const dataDir = chooseDataDir(values['data-dir'], process.env);
  console.error(`data directory: ${dataDir.path} (${dataDir.source})`);
  const env = { ...process.env, SECUREKEY_DATA_DIR: dataDir.path };
  const refused = await refusal(dataDir, { init: values.init, storeHasEvents: () => kurrentHasEvents(env) });
  if (refused) {
    console.error(`error: ${refused}`);
    return 1;
  }
  const config = loadConfig(env);
  if (`${noun} ${verb ?? ''}`.trim() === 'master-key rotate') return runMasterKeyRotate(values, config, out, need); // the key store alone
  const store = await openStore(config);
  let privacy;
  try {
    privacy = await openPrivacy(config, store, () => Date.now());
  } catch (err) {
    await store.close();
    throw err;
  }
  try {
    const egress = { allowPrivate: config.webhooks.allowPrivate };
    const tenants = createTenantService({ store, keyring: privacy.keyring, now: () => Date.now(), webhookTargetProblem: (url) => checkWebhookUrl(url, egress) });
    const meta = { actor: 'cli' };
    const ctx: CliContext = { store, config, privacy, out, need };
    switch (`${noun} ${verb ?? ''}`.trim()) {
      case 'tenant create': {
        const r = await tenants.create({ name: need(values.name, 'name'), webhookUrl: values['webhook-url'] }, meta);
        const json = { tenantId: r.tenantId, keyId: r.keyId, apiKey: r.apiKey, ...(r.webhookSecret ? { webhookSecret: r.webhookSecret } : {}) };
        out(
          [`tenant ${r.tenantId} created`, `API key (shown once): ${r.apiKey}`, ...(r.webhookSecret ? [`webhook secret (shown once): ${r.webhookSecret}`] : [])].join('\n'),
          json,
        );
        return 0;
      }
      case 'tenant list': {
        const list = await listTenantsFromLog(store);
        out(
          list.length
            ? list.map((t) => `${t.tenantId}  ${t.name}  keys: ${t.keys.map((k) => `${k.keyId}${k.revoked ? ' (revoked)' : ''}`).join(', ')}`).join('\n')
            : 'no tenants yet: npm run admin -- tenant create --name NAME',
          { tenants: list },
        );
        return 0;
      }
      case 'tenant settings':
        return await runTenantSettings(values, { store, tenants, out, need, meta });
      case 'key issue': {
        const r = await tenants.issueKey(need(values.tenant, 'tenant'), values.name ?? 'default', meta);
        out(`key ${r.keyId} issued\nAPI key (shown once): ${r.apiKey}`, { keyId: r.keyId, apiKey: r.apiKey });
        return 0;
      }
      case 'key revoke': {
        await tenants.revokeKey(need(values.tenant, 'tenant'), need(values.key, 'key'), meta);
        out(`key ${values.key} revoked`, { revoked: true, keyId: values.key });
        return 0;
      }
      case 'limits reset':
        return await runLimitsReset(values, { store, privacy, out, need, meta });
      case 'policy put':
      case 'policy list':
      case 'policy delete':
        return await runPolicyCommand(verb, values, { store, out, need, meta });
      case 'webhooks list':
      case 'webhooks show':
      case 'webhooks redeliver':
        return await runWebhooksCommand(verb, values, ctx);
      case 'audit export':
        return await runAuditExport(values, ctx);
      case 'history':
        return await runHistory(values, ctx);
      case 'replay':
        return await runReplay(values, ctx);
      case 'verify-chain':
        return await runVerifyChain(ctx);
      case 'user erase':
      case 'user export':
        return await runUserCommand(verb, values, ctx);
      case 'retention run':
        return await runRetentionNow(ctx);
      default:
        console.error(`unknown command "${positionals.join(' ')}"\n\n${HELP}`);
        return 2;
    }
  } finally {
    privacy.close();
    await store.close();
  }
};

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  if (err instanceof DomainError || err instanceof ConfigError || err instanceof StoreUnavailableError || err instanceof WrongMasterKeyError || err instanceof KeyStoreMissingError) {
    console.error(`error: ${err.message}`);
    process.exitCode = 1;
  } else if (err instanceof Error && 'code' in err && err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    console.error(`error: ${err.message}\n\n${HELP}`);
    process.exitCode = 2;
  } else throw err;
}
