// Picks the event store adapter from the configuration.
import { privateDir } from '../fs/private.ts';
import { join } from 'node:path';
import { ConfigError, type Config } from '../config.ts';
import type { EventStore } from './port.ts';
import { createSqliteEventStore } from './sqlite/index.ts';

const KURRENTDB = /^(kurrentdb|kurrent|kdb|esdb)(\+discover)?:\/\//i;

/** The embedded store's file. */
export const sqliteEventsPath = (config: Pick<Config, 'dataDir'>) => join(config.dataDir, 'events.db');

/** `serving`: the server's own store, read by requests (SQLite: reads of a turn share a snapshot).
 * `walAutocheckpoint`: the embedded store's writer hands its checkpoints to the server's
 * checkpoint thread (src/sqlite/checkpoints.ts) up to that many pages of WAL. */
export const openStore = async (config: Pick<Config, 'eventStore' | 'dataDir'>, o: { serving?: boolean; walAutocheckpoint?: number } = {}): Promise<EventStore> => {
  if (config.eventStore === 'sqlite') {
    privateDir(config.dataDir);
    return createSqliteEventStore({ path: sqliteEventsPath(config), readSnapshots: o.serving === true, walAutocheckpoint: o.walAutocheckpoint });
  }
  if (KURRENTDB.test(config.eventStore)) {
    // Loaded only when used: the client library takes a second to load on a busy machine, which
    // every admin CLI run on SQLite paid for nothing.
    const { createKurrentDbEventStore } = await import('./kurrentdb/index.ts');
    // Connects lazily: an unreachable server makes calls fail with StoreUnavailableError, not start-up.
    try {
      return createKurrentDbEventStore({ connectionString: config.eventStore });
    } catch (err) {
      // The parser quotes the offending text, which may be part of a password: keep only where and what.
      const where = String((err as Error).message).replace(/^Unexpected ".*" at/s, 'unexpected text at');
      throw new ConfigError(`SECUREKEY_EVENTSTORE is not a valid KurrentDB connection string: ${where}`);
    }
  }
  throw new ConfigError(`SECUREKEY_EVENTSTORE must be "sqlite" or a kurrentdb:// connection string, got "${config.eventStore.split('://')[0]}://..."`);
};
