// Picks the event store adapter from the configuration.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Config } from '../config.ts';
import type { EventStore } from './port.ts';
import { createSqliteEventStore } from './sqlite/index.ts';

export const openStore = async (config: Pick<Config, 'eventStore' | 'dataDir'>): Promise<EventStore> => {
  if (config.eventStore === 'sqlite') {
    mkdirSync(config.dataDir, { recursive: true });
    return createSqliteEventStore({ path: join(config.dataDir, 'events.db') });
  }
  throw new ConfigError('the KurrentDB event store is not available in this build yet; use SECUREKEY_EVENTSTORE=sqlite');
};
