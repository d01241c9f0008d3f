// Which data directory the admin CLI works on, and the rule that keeps it from silently working
// on the wrong one: the CLI writes to the store in that directory (or to KurrentDB with that
// directory's master key), so a CLI pointed elsewhere than the server creates tenants and keys
// the server never sees. A directory that holds no SecureKey data is therefore only created or
// used when the operator says so: by naming it (--data-dir) or with --init.
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

export type DataDirChoice = { path: string; source: '--data-dir' | 'SECUREKEY_DATA_DIR' | 'default ./data' };

export const chooseDataDir = (flag: string | undefined, env: Record<string, string | undefined>): DataDirChoice => {
  if (flag) return { path: resolve(flag), source: '--data-dir' };
  if (env.SECUREKEY_DATA_DIR) return { path: resolve(env.SECUREKEY_DATA_DIR), source: 'SECUREKEY_DATA_DIR' };
  return { path: resolve('./data'), source: 'default ./data' };
};

/** What a server leaves in its data directory: the event store, the master key, the key store, read models. */
const SECUREKEY_FILE = /^(events\.db|master\.key|keys\.db|readmodels(-[\w-]+)?\.db|webhooks\.db)$/;

export const holdsSecureKeyData = (dir: string): boolean => existsSync(dir) && readdirSync(dir).some((f) => SECUREKEY_FILE.test(f));

/**
 * Why the CLI must not use `choice`, or undefined when it may: the directory holds SecureKey data,
 * or the operator named it / asked for a new one, or (KurrentDB with the master key in the
 * environment) the event store already has events.
 */
export const refusal = async (choice: DataDirChoice, opts: { init: boolean; storeHasEvents: () => Promise<boolean> }): Promise<string | undefined> => {
  if (opts.init || choice.source === '--data-dir' || holdsSecureKeyData(choice.path)) return undefined;
  if (await opts.storeHasEvents()) return undefined;
  return [
    `${choice.path} (${choice.source}) holds no SecureKey data: no events, no master key. It is not your server's data directory.`,
    'Use the server\'s: the same SECUREKEY_DATA_DIR as the server, or --data-dir DIR.',
    'To start a new data directory there on purpose, add --init.',
  ].join('\n');
};
