// One write transaction helper for every SQLite file we own (read models, key store).
import type { DatabaseSync } from 'node:sqlite';

/** Runs fn in a write transaction taken at once (BEGIN IMMEDIATE): all of it or nothing. */
export const immediate = <T>(db: DatabaseSync, fn: () => T): T => {
  db.exec('BEGIN IMMEDIATE');
  try {
    const r = fn();
    db.exec('COMMIT');
    return r;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
};
