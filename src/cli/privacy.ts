// `npm run admin -- user erase|export`, `retention run` and `master-key rotate` (docs/privacy.md).
// They work on the data directory like every command, also while the server runs: the server
// notices an erasure through the log and drops its cached keys; a retention run here destroys the
// same keys the server's job would.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditProjection } from '../../projections/audit/index.ts';
import { listTenants, tenantsProjection } from '../../projections/tenants/index.ts';
import { createEventLog } from '../app/event-log.ts';
import { runRetention } from '../app/retention.ts';
import { createUserKeys } from '../app/user-keys.ts';
import { createUsersService } from '../app/users.ts';
import { type Config, keyStorePath, parseMasterKey, readModelsPath } from '../config.ts';
import { DomainError } from '../domain/errors.ts';
import { createSqliteKeyStore } from '../privacy/keystore-sqlite.ts';
import { rotateMasterKey } from '../privacy/vault.ts';
import { openCaughtUp, type CliContext } from './replay.ts';

export const PRIVACY_HELP = `  user erase --tenant T --user U [--json]                  erase a user: pending codes and push requests cancelled, their data
                                                           key destroyed (their personal data reads [erased] everywhere),
                                                           UserErased recorded; the same id starts from scratch
  user export --tenant T --user U                          everything held about a user, decrypted, as JSON (GDPR Art. 15)
  retention run [--json]                                   destroy now the day keys past each tenant's retentionDays (the
                                                           server's job does it every 10 minutes)
  master-key rotate --new-key-file FILE [--json]           re-wrap every data key and the root key under the master key in FILE
                                                           (no event is rewritten); stop the servers first, start them with
                                                           the new key after (docs/privacy.md)`;

export const PRIVACY_OPTIONS = { 'new-key-file': { type: 'string' } } as const;

type Args = { tenant?: string; user?: string; 'new-key-file'?: string };

const usersService = (ctx: CliContext) => {
  const { keyring, personal, vault } = ctx.privacy;
  const now = () => Date.now();
  return createUsersService({
    events: createEventLog(ctx.store, personal),
    store: ctx.store,
    personal,
    keyring,
    users: createUserKeys({ store: ctx.store, keyring }),
    vault,
    now,
    auditDb: () => openCaughtUp(readModelsPath(ctx.config), ctx.store, [auditProjection]),
  });
};

export const runUserCommand = async (verb: string | undefined, args: Args, ctx: CliContext): Promise<number> => {
  const tenantId = ctx.need(args.tenant, 'tenant');
  const userId = ctx.need(args.user, 'user');
  switch (verb) {
    case 'erase': {
      const r = await usersService(ctx).erase({ tenantId, metadata: { tenantId, actor: 'cli' } }, userId);
      ctx.out(
        `user erased (${r.erasureId}): ${r.cancelledCodes} pending code(s) and ${r.cancelledPushRequests} push request(s) cancelled; their personal data now reads [erased]`,
        { erased: true, ...r },
      );
      return 0;
    }
    case 'export': {
      const x = await usersService(ctx).export({ tenantId }, userId);
      console.log(JSON.stringify(x, null, 2));
      return 0;
    }
    default:
      throw new DomainError('INVALID_ARGUMENT', `unknown user command ${JSON.stringify(verb ?? '')}: expected erase or export (see --help)`);
  }
};

export const runRetentionNow = async (ctx: CliContext): Promise<number> => {
  const db = await openCaughtUp(readModelsPath(ctx.config), ctx.store, [tenantsProjection]);
  try {
    const r = runRetention({ vault: ctx.privacy.vault, tenants: () => listTenants(db), now: () => Date.now() });
    ctx.out(`retention: ${r.tenants} tenant(s) with retentionDays, ${r.keysDestroyed} day key(s) destroyed`, r);
    return 0;
  } finally {
    db.close();
  }
};

/** Rotation runs on the key store alone (no event store, no vault: that would need the new key). */
export const runMasterKeyRotate = (args: Args, config: Config, out: CliContext['out'], need: CliContext['need']): number => {
  const file = need(args['new-key-file'], 'new-key-file');
  const newKey = parseMasterKey(readFileSync(file, 'utf8').trim());
  const store = createSqliteKeyStore(keyStorePath(config));
  let keys: number;
  try {
    keys = rotateMasterKey(store, config.masterKey, newKey).keys;
  } finally {
    store.close();
  }
  // A master key the server generated into the data directory is replaced there too.
  const keyFile = join(config.dataDir, 'master.key');
  const fromFile = !config.env.SECUREKEY_MASTER_KEY;
  if (fromFile) {
    writeFileSync(`${keyFile}.new`, `${newKey.toString('base64')}\n`, { mode: 0o600 });
    renameSync(`${keyFile}.new`, keyFile);
  }
  out(
    [
      `re-wrapped ${keys} data key(s) and the root key under the new master key; no event was rewritten.`,
      fromFile ? `${keyFile} now holds the new key.` : 'Set SECUREKEY_MASTER_KEY to the new key wherever the server and the CLI run.',
      'Start the servers with the new key; the old one no longer opens the key store. Keep a copy of the new key with your backups.',
    ].join('\n'),
    { rotated: true, keys, keyFileReplaced: fromFile },
  );
  return 0;
};
