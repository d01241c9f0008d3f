// Bulk catch-up: how the runner (runtime.ts) applies a long stretch of the log to read models far
// behind it — a rebuild into a fresh file (replay), or a server started on a log its read models
// have not seen. Kept current row by row, an index costs more than the rest of its row (those on
// random keys, a user's or a destination's hash, most of all); built once over the whole table it
// costs a sort. So while far behind, each such read model's query-only and rare indexes are
// dropped, a rare one built back (once) before the first batch holding an event that needs it, and
// every one built back when the catch-up reaches the head of the log.
//
// Crash safety needs nothing more: each DROP and CREATE commits like any other write, the rows and
// checkpoints stay in the runner's transactions, and every projection's init creates its indexes
// IF NOT EXISTS, so a start after a crash in the middle finds them (and drops them again when it
// catches up in bulk once more). A bulk catch-up does not change how a read model is written
// (its file's journal, fsync): only which indexes exist meanwhile and the page cache.
import type { DatabaseSync } from 'node:sqlite';
import type { StoredEvent } from '../src/eventstore/port.ts';
import type { Projection } from './runtime.ts';
import { quoteIdent } from './sql.ts';

/** Page cache (KiB) of a connection catching up in bulk: the indexes evolve keeps current stay in memory. */
export const BULK_CACHE_KIB = 16 * 1024;

export type BulkCatchUp = {
  /** Before a projection applies these events (inside the runner's transaction): builds back the
   * rare indexes they need. A rollback undoes the build too; the next call builds again. */
  before: (p: Projection, events: readonly StoredEvent[]) => void;
  /** Builds back every dropped index and restores the page cache. */
  finish: () => void;
};

/** Drops the query-only and rare indexes of `behind` (their init has run) and enlarges the page cache. */
export const startBulkCatchUp = (db: DatabaseSync, behind: readonly Projection[]): BulkCatchUp => {
  const cache = (db.prepare('PRAGMA cache_size').get() as { cache_size: number }).cache_size;
  db.exec(`PRAGMA cache_size = -${BULK_CACHE_KIB}`);
  const exists = (name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?").get(name) !== undefined;
  const deferred = new Map<string, string>();
  for (const p of behind) {
    for (const name of [...(p.queryIndexes ?? []), ...(p.rareIndexes ?? []).map((r) => r.name)]) {
      const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?").get(name) as { sql: string } | undefined;
      if (!row) continue;
      deferred.set(name, row.sql);
      db.exec(`DROP INDEX ${quoteIdent(name)}`);
    }
  }
  /** Builds the index unless it is there (built by an earlier batch, which a rollback may undo). */
  const build = (name: string) => {
    const sql = deferred.get(name);
    if (sql !== undefined && !exists(name)) db.exec(sql);
  };
  return {
    before: (p, events) => {
      for (const r of p.rareIndexes ?? []) if (events.some((e) => r.neededBy.includes(e.type))) build(r.name);
    },
    finish: () => {
      if (!db.isOpen) return;
      for (const name of deferred.keys()) build(name);
      db.exec(`PRAGMA cache_size = ${cache}`);
    },
  };
};
