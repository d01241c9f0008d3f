// Replay for auditors: rebuild read models from the log into a FRESH database with the very
// projection runner the server uses, reporting progress (events/s, ETA), and optionally compare
// the rebuilt tables with the live ones, table by table.
import type { DatabaseSync } from 'node:sqlite';
import { createProjectionRunner, type Projection } from '../../projections/runtime.ts';
import { quoteIdent as q } from '../../projections/sql.ts';
import { WEBHOOK_OPERATIONAL_TABLES } from '../webhooks/outbox.ts';
import { type Progress, progressOf } from '../eventstore/chain.ts';
import { StoreUnavailableError, type EventStore, type StoredEvent } from '../eventstore/port.ts';

export type { Progress } from '../eventstore/chain.ts';

/** Tables that are state rather than derived data (webhook delivery attempts): not compared. */
export const DEFAULT_VERIFY_IGNORE = [...WEBHOOK_OPERATIONAL_TABLES];

export type TableDiff = {
  table: string;
  liveRows: number;
  rebuiltRows: number;
  /** Rows (whole rows) present in one and not in the other. */
  onlyInLive: number;
  onlyInRebuilt: number;
  sampleOnlyInLive: Record<string, unknown>[];
  sampleOnlyInRebuilt: Record<string, unknown>[];
  /** "missing in live", "schema differs: ...". */
  problem?: string;
};

export type VerifyReport = {
  ok: boolean;
  tables: TableDiff[];
  /** Tables compared equal. */
  equal: string[];
  liveCheckpoints: Record<string, number>;
  notes: string[];
};

export type ReplayOptions = {
  store: EventStore;
  /** A fresh read-model database (openReadModelDb on a new file). */
  db: DatabaseSync;
  projections: Projection[];
  /** The live read-model database to compare with (a file: it is ATTACHed to db and only read). */
  verify?: DatabaseSync | false;
  onProgress?: (p: Progress) => void;
  progressEveryMs?: number;
  /** Last position to replay. Default: when verifying, the live read models' checkpoint, else the head. */
  toPosition?: number;
  ignoreTables?: string[];
  clock?: () => number;
  /** How long the log may stay unreadable (StoreUnavailableError: a KurrentDB restart, a network
   * blip) while the replay retries, before it gives up with that error. Default 30 s. */
  unavailableForMs?: number;
  /** Each time the log could not be read and the replay retries. */
  onUnavailable?: (err: StoreUnavailableError) => void;
};

export type ReplayResult = {
  position: number;
  events: number;
  durationMs: number;
  /** Projections that stopped at an error (as the live runner would). */
  errors: { projection: string; message: string }[];
  verify?: VerifyReport;
};

const readCheckpoints = (db: DatabaseSync, schema = 'main'): Record<string, number> => {
  const exists = db.prepare(`SELECT 1 FROM ${schema}.sqlite_master WHERE type = 'table' AND name = 'projection_checkpoints'`).get();
  if (!exists) return {};
  const rows = db.prepare(`SELECT name, position FROM ${schema}.projection_checkpoints`).all() as { name: string; position: number }[];
  return Object.fromEntries(rows.map((r) => [r.name, r.position]));
};

/** The store as a subscription that ends (goes quiet until aborted) at `to`, counting events. */
const boundedStore = (store: EventStore, to: number, seen: (e: StoredEvent) => void): EventStore => ({
  ...store,
  headPosition: async () => to,
  readAll: async ({ fromPosition = 0, maxCount = -1 } = {}) => {
    if (fromPosition >= to) return [];
    const page = await store.readAll({ fromPosition, maxCount: maxCount < 0 ? to - fromPosition : Math.min(maxCount, to - fromPosition) });
    const upTo = page.findLastIndex((e) => e.position <= to) + 1;
    const within = upTo === page.length ? page : page.slice(0, upTo);
    for (const e of within) seen(e);
    return within;
  },
  subscribeToAll: ({ fromPosition, signal }) =>
    (async function* () {
      let from = fromPosition;
      while (from < to && !signal?.aborted) {
        const page = await store.readAll({ fromPosition: from, maxCount: 1000 });
        if (page.length === 0) break;
        for (const e of page) {
          if (e.position > to) return yield* quiet(signal);
          seen(e);
          yield e;
          if (signal?.aborted) return;
        }
        from = page[page.length - 1].position;
      }
      yield* quiet(signal);
    })(),
});

async function* quiet(signal: AbortSignal | undefined): AsyncGenerator<StoredEvent> {
  if (!signal || signal.aborted) return;
  await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
}

/** Events per transaction of a rebuild. */
const REBUILD_BATCH = 2000;

/** A rebuild writes a fresh file with no fsync and the rollback journal in memory (a rebuild that
 * does not finish leaves a file nobody uses, and the CLI removes it: src/cli/replay.ts); the
 * runner catches up in bulk (projections/bulk.ts: indexes dropped and built back once), and the
 * file is put back in the read models' usual mode (WAL, synchronous=NORMAL) at the end. */
const REBUILD_MODE = 'PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF;';
const USUAL_MODE = 'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;';

export const replay = async (o: ReplayOptions): Promise<ReplayResult> => {
  const clock = o.clock ?? (() => performance.now());
  const started = clock();
  if (Object.values(readCheckpoints(o.db)).some((p) => p > 0)) throw new Error('replay needs a fresh database: this one already has read models');
  const liveCheckpoints = o.verify ? readCheckpoints(o.verify) : {};
  const liveOfChosen = o.projections.map((p) => liveCheckpoints[p.name]).filter((p) => p !== undefined);
  const to = o.toPosition ?? (liveOfChosen.length ? Math.max(...liveOfChosen) : await o.store.headPosition());

  let events = 0;
  let last = 0;
  let lastReport = started;
  const every = o.progressEveryMs ?? 250;
  /** Since when the log has been unreadable (undefined: it is read). */
  let unavailableSince: number | undefined;
  const seen = (e: StoredEvent) => {
    unavailableSince = undefined;
    events++;
    last = e.position;
    const t = clock();
    if (o.onProgress && t - lastReport >= every) {
      lastReport = t;
      o.onProgress(progressOf(last, to, t - started));
    }
  };
  const errors: ReplayResult['errors'] = [];
  o.db.exec(REBUILD_MODE);
  // A failure of the runner itself ('*': the log could not be read, e.g. an event that does not
  // parse) ends the replay with that error: the server's runner would retry it forever, and a
  // replay that waits forever is no answer. A store that is unavailable is retried (the runner
  // starts again from its checkpoints) for up to unavailableForMs of no progress.
  let runnerFailed!: (err: unknown) => void;
  const failure = new Promise<never>((_, reject) => (runnerFailed = reject));
  failure.catch(() => {}); // raced below; never unhandled when the replay ends first
  const runner = createProjectionRunner({
    store: boundedStore(o.store, to, seen),
    db: o.db,
    projections: o.projections,
    batchSize: REBUILD_BATCH,
    bulk: { minEvents: 0, batchSize: REBUILD_BATCH },
    onError: (projection, err) => {
      if (projection !== '*') return void errors.push({ projection, message: err instanceof Error ? err.message : String(err) });
      if (err instanceof StoreUnavailableError) {
        unavailableSince ??= clock();
        if (clock() - unavailableSince < (o.unavailableForMs ?? 30_000)) return o.onUnavailable?.(err);
      }
      runnerFailed(err);
    },
  });
  try {
    await Promise.race([runner.start(), failure]);
  } finally {
    await runner.stop();
    if (o.db.isOpen) o.db.exec(USUAL_MODE);
  }
  o.onProgress?.(progressOf(to, to, clock() - started));
  const result: ReplayResult = { position: to, events, durationMs: clock() - started, errors };
  if (o.verify) result.verify = compareReadModels(o.db, o.verify, { ignoreTables: o.ignoreTables ?? DEFAULT_VERIFY_IGNORE, liveCheckpoints });
  return result;
};

/** Compares every table of `rebuilt` (except checkpoints and ignored ones) with the same table in
 * `live`, as multisets of whole rows, in SQL (the live file is attached for the comparison). */
export const compareReadModels = (
  rebuilt: DatabaseSync,
  live: DatabaseSync,
  opts: { ignoreTables?: string[]; sample?: number; liveCheckpoints?: Record<string, number> } = {},
): VerifyReport => {
  const path = live.location();
  if (!path) throw new Error('verify needs the live read models in a file');
  const ignore = new Set(['projection_checkpoints', ...(opts.ignoreTables ?? DEFAULT_VERIFY_IGNORE)]);
  const sample = opts.sample ?? 5;
  const report: VerifyReport = { ok: true, tables: [], equal: [], liveCheckpoints: opts.liveCheckpoints ?? readCheckpoints(live), notes: [] };
  rebuilt.prepare('ATTACH DATABASE ? AS live').run(path); // only read
  try {
    const tables = (rebuilt.prepare("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[])
      .map((r) => r.name)
      .filter((n) => !ignore.has(n));
    const liveTables = new Set((rebuilt.prepare("SELECT name FROM live.sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    const columns = (schema: string, t: string) =>
      (rebuilt.prepare(`SELECT name, type FROM pragma_table_info(?, ?)`).all(t, schema) as { name: string; type: string }[]).map((c) => `${c.name} ${c.type}`).join(', ');
    const count = (schema: string, t: string) => (rebuilt.prepare(`SELECT COUNT(*) AS n FROM ${schema}.${q(t)}`).get() as { n: number }).n;
    for (const t of tables) {
      const diff: TableDiff = { table: t, liveRows: 0, rebuiltRows: count('main', t), onlyInLive: 0, onlyInRebuilt: 0, sampleOnlyInLive: [], sampleOnlyInRebuilt: [] };
      if (!liveTables.has(t)) {
        report.tables.push({ ...diff, problem: 'missing in live' });
        continue;
      }
      diff.liveRows = count('live', t);
      const [cm, cl] = [columns('main', t), columns('live', t)];
      if (cm !== cl) {
        report.tables.push({ ...diff, problem: `schema differs: rebuilt (${cm}) vs live (${cl})` });
        continue;
      }
      const except = (a: string, b: string) => `SELECT * FROM ${a}.${q(t)} EXCEPT SELECT * FROM ${b}.${q(t)}`;
      diff.onlyInLive = (rebuilt.prepare(`SELECT COUNT(*) AS n FROM (${except('live', 'main')})`).get() as { n: number }).n;
      diff.onlyInRebuilt = (rebuilt.prepare(`SELECT COUNT(*) AS n FROM (${except('main', 'live')})`).get() as { n: number }).n;
      if (diff.onlyInLive === 0 && diff.onlyInRebuilt === 0 && diff.liveRows === diff.rebuiltRows) {
        report.equal.push(t);
        continue;
      }
      diff.sampleOnlyInLive = rebuilt.prepare(`${except('live', 'main')} LIMIT ?`).all(sample) as Record<string, unknown>[];
      diff.sampleOnlyInRebuilt = rebuilt.prepare(`${except('main', 'live')} LIMIT ?`).all(sample) as Record<string, unknown>[];
      report.tables.push(diff);
    }
    const after = readCheckpoints(rebuilt, 'live');
    if (JSON.stringify(after) !== JSON.stringify(report.liveCheckpoints)) report.notes.push('the live read models advanced during the comparison: differences may come from new events');
  } finally {
    rebuilt.exec('DETACH DATABASE live');
  }
  report.ok = report.tables.length === 0;
  return report;
};

// ---- progress bar ----

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtDuration = (ms: number | null) => {
  if (ms === null) return '--';
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
};

/** "[########------------]  42%  4,200/10,000 events  8,120 ev/s  ETA 1s" */
export const formatProgress = (p: Progress, width = 24, label = ''): string => {
  const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const filled = Math.round(ratio * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  return `${label ? `${label} ` : ''}${bar} ${String(Math.floor(ratio * 100)).padStart(3)}%  ${fmtInt(p.done)}/${fmtInt(p.total)} events  ${fmtInt(p.rate)} ev/s  ETA ${fmtDuration(p.etaMs)}`;
};

export type ProgressOutput = { write: (s: string) => unknown; isTTY?: boolean; columns?: number };

/** On a TTY: one line redrawn in place. Otherwise (logs, CI): a plain line at most every
 * `everyMs`, and the last one always. */
export const createProgressRenderer = (out: ProgressOutput = process.stderr, opts: { label?: string; everyMs?: number; clock?: () => number } = {}) => {
  const clock = opts.clock ?? (() => performance.now());
  const everyMs = opts.everyMs ?? 2000;
  let lastLine = -Infinity;
  let lastP: Progress | undefined;
  let printed: Progress | undefined;
  let drawn = false;
  return {
    update: (p: Progress) => {
      lastP = p;
      if (out.isTTY) {
        const width = Math.max(10, Math.min(40, (out.columns ?? 80) - 70));
        out.write(`\r${formatProgress(p, width, opts.label)}\x1b[K`);
        drawn = true;
      } else if (clock() - lastLine >= everyMs) {
        lastLine = clock();
        printed = p;
        out.write(`${formatProgress(p, 20, opts.label)}\n`);
      }
    },
    /** Ends the bar (newline on a TTY; the final state otherwise). */
    done: () => {
      if (out.isTTY) {
        if (drawn) out.write('\n');
      } else if (lastP && lastP !== printed) {
        out.write(`${formatProgress(lastP, 20, opts.label)}\n`);
      }
    },
  };
};
