// `npm run admin -- replay | verify-chain`: rebuild every read model from the log into a fresh
// file (and compare it with the live ones), and walk the log's hash chains. Both draw a progress
// bar on stderr. Also the helpers the other CLI modules share to reach the live read models.
import { readModelsPath, webhooksDbPath } from '../config.ts';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { createProjectionRunner, type Projection } from '../../projections/runtime.ts';
import { openReadModelDb } from '../../projections/sql.ts';
import { WEBHOOK_OPERATIONAL_TABLES } from '../webhooks/outbox.ts';
import { nodeProjections, sharedProjections } from '../../projections/index.ts';
import { compareReadModels, createProgressRenderer, replay, type TableDiff, type VerifyReport } from '../app/replay.ts';
import type { Config } from '../config.ts';
import { DomainError } from '../domain/errors.ts';
import { verifyChain, type ChainReport } from '../eventstore/chain.ts';
import type { EventStore } from '../eventstore/port.ts';
import type { Privacy } from '../privacy/open.ts';

export type Out = (human: string, json: Record<string, unknown>) => void;
export type CliContext = { store: EventStore; config: Config; privacy: Privacy; out: Out; need: (v: string | undefined, flag: string) => string };

export const REPLAY_HELP = `  replay [--verify] [--out PATH] [--json]                  rebuild every read model from the log into a fresh database file
                                                           (default <data dir>/replay-<time>.db; an existing PATH is refused, and
                                                           a replay that fails or is interrupted removes the file it made);
                                                           --verify compares it with the live read models, exit 1 on a difference
                                                           (then the rebuilt file is kept to look at).
                                                           Safe while the server runs: webhooks are never sent again
  verify-chain [--json]                                    walk the log and check every stream's hash chain: edited, reordered
                                                           or missing events (exit 1); unchained events are listed as information`;

export const REPLAY_OPTIONS = {
  verify: { type: 'boolean', default: false },
  out: { type: 'string' },
} as const;


/** Opens a live read-model database and brings `projections` up to the head of the log, exactly as
 * the server does; safe while it runs (the runner never applies an event twice), and it makes the
 * CLI's answers current when no server runs. */
export const openCaughtUp = async (path: string, store: EventStore, projections: Projection[]): Promise<DatabaseSync> => {
  const db = openReadModelDb(path);
  const failures: string[] = [];
  const runner = createProjectionRunner({ store, db, projections, onError: (name, err) => name !== '*' && failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`) });
  try {
    await runner.start();
  } catch (err) {
    await runner.stop();
    db.close();
    throw err;
  }
  await runner.stop();
  for (const f of failures) console.error(`warning: projection ${f} (it stops there; the answer may be incomplete)`);
  return db;
};

const tablesOf = async (projections: Projection[]): Promise<string[]> => {
  const db = openReadModelDb(':memory:');
  try {
    for (const p of projections) p.init(db);
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
};

const checkpointsOf = (db: DatabaseSync): Record<string, number> => {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'projection_checkpoints'").get();
  if (!has) return {};
  return Object.fromEntries((db.prepare('SELECT name, position FROM projection_checkpoints').all() as { name: string; position: number }[]).map((r) => [r.name, r.position]));
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The position to rebuild up to when verifying: where the live read models are. A running server
 * keeps them within milliseconds of each other; wait briefly for them to agree. */
const livePosition = async (lives: { db: DatabaseSync; names: string[] }[], notes: string[]): Promise<number> => {
  const positions = () => lives.flatMap(({ db, names }) => {
    const cps = checkpointsOf(db);
    return names.map((n) => cps[n] ?? 0);
  });
  for (let waited = 0; ; waited += 100) {
    const ps = positions();
    const max = Math.max(0, ...ps);
    if (ps.every((p) => p === max)) return max;
    if (waited >= 3000) {
      notes.push(`the live read models are at different positions (${Math.min(...ps)} to ${max}): those behind show differences for events they have not applied yet`);
      return max;
    }
    await sleep(100);
  }
};

const fmtRow = (r: Record<string, unknown>) => {
  const s = JSON.stringify(r);
  return s.length > 300 ? `${s.slice(0, 299)}…` : s;
};

const describeDiff = (d: TableDiff) =>
  [
    `  ${d.table}: ${d.problem ?? `live ${d.liveRows} rows, rebuilt ${d.rebuiltRows}; ${d.onlyInLive} only in live, ${d.onlyInRebuilt} only in rebuilt`}`,
    ...d.sampleOnlyInLive.map((r) => `    only in live:    ${fmtRow(r)}`),
    ...d.sampleOnlyInRebuilt.map((r) => `    only in rebuilt: ${fmtRow(r)}`),
  ].join('\n');

/** SQLite's files beside a database: a leftover one would be taken for part of the new database. */
const SIDE_FILES = ['-wal', '-shm', '-journal'];

/** The output file, made by this run (O_EXCL: a file or link already at the path is refused, never
 * opened), so that removing it can only ever remove what this run wrote. */
const claimOutput = (out: string) => {
  for (const side of SIDE_FILES) {
    if (existsSync(out + side)) throw new DomainError('INVALID_ARGUMENT', `--out: ${out + side} exists (left by an earlier database at that path?); remove it or choose another path`);
  }
  try {
    closeSync(openSync(out, 'wx', 0o600));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new DomainError('INVALID_ARGUMENT', `--out: ${out} already exists; replay writes a fresh database file`);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') throw new DomainError('INVALID_ARGUMENT', `--out: cannot create ${out} (${code}): its directory must exist and be writable`);
    throw err;
  }
  return { remove: () => [out, ...SIDE_FILES.map((side) => out + side)].forEach((f) => rmSync(f, { force: true })) };
};

/** Until the returned function is called, SIGINT and SIGTERM run `cleanUp` and then end the
 * process as the signal would have (exit status 130 or 143). */
const onInterrupt = (cleanUp: (signal: NodeJS.Signals) => void) => {
  const handler = (signal: NodeJS.Signals) => {
    cleanUp(signal);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
};

/** Runs `build` on a fresh database at `out` that this run creates, and removes the file unless
 * the build says it is complete: when it throws, when a projection failed, or on SIGINT/SIGTERM.
 * A partial read-model file is not to be used, and left behind it would also block the next run. */
const intoOwnFile = async <T extends { complete: boolean }>(out: string, build: (db: DatabaseSync) => Promise<T>): Promise<T> => {
  let output: ReturnType<typeof claimOutput> | undefined;
  let db: DatabaseSync | undefined;
  let complete = false;
  // Watching from before the file exists: a signal between its creation and the watch would leave it.
  const stopWatching = onInterrupt((signal) => {
    if (db?.isOpen) db.close();
    output?.remove();
    console.error(`\n${signal}: replay interrupted${output ? `; removed the partial ${out}` : ''}`);
  });
  try {
    output = claimOutput(out);
    db = openReadModelDb(out);
    const built = await build(db);
    complete = built.complete;
    return built;
  } finally {
    stopWatching();
    if (db?.isOpen) db.close();
    if (!complete) output?.remove();
  }
};

export const runReplay = async (args: { verify?: boolean; out?: string }, ctx: CliContext): Promise<number> => {
  const { store, config } = ctx;
  const out = resolve(args.out ?? join(config.dataDir, `replay-${new Date().toISOString().replace(/[:.]/g, '-')}.db`));
  if (existsSync(out)) throw new DomainError('INVALID_ARGUMENT', `--out: ${out} already exists; replay writes a fresh database file`);
  const groups = [
    { label: 'read models', path: readModelsPath(config), projections: nodeProjections(ctx.privacy.keyring) },
    // Only derived tables are compared; delivery state and attempts are the worker's, and the
    // rebuilt file has no worker, so nothing is sent again.
    { label: 'webhook deliveries', path: webhooksDbPath(config), projections: sharedProjections },
  ];
  const notes: string[] = [];
  const lives: { db: DatabaseSync; names: string[]; tables: string[] }[] = [];
  try {
    if (args.verify) {
      for (const g of groups) {
        if (!existsSync(g.path)) throw new DomainError('NOT_FOUND', `--verify: no live ${g.label} at ${g.path} (has the server run on this data directory?)`);
      }
      for (const g of groups) lives.push({ db: openReadModelDb(g.path), names: g.projections.map((p) => p.name), tables: await tablesOf(g.projections) });
    }
    const toPosition = args.verify ? await livePosition(lives, notes) : await store.headPosition();
    const built = await intoOwnFile(out, async (db) => {
      const bar = createProgressRenderer(process.stderr, { label: 'replay' });
      const onUnavailable = (err: Error) => console.error(`\nthe event store is unavailable (${err.message.slice(0, 200)}); retrying for up to 30 s`);
      const result = await replay({ store, db, projections: groups.flatMap((g) => g.projections), toPosition, onProgress: bar.update, onUnavailable });
      bar.done();
      let verify: VerifyReport | undefined;
      if (args.verify) {
        const all = lives.flatMap((l) => l.tables);
        const reports = lives.map((l) =>
          compareReadModels(db, l.db, { ignoreTables: [...WEBHOOK_OPERATIONAL_TABLES, ...all.filter((t) => !l.tables.includes(t))], liveCheckpoints: checkpointsOf(l.db) }),
        );
        verify = {
          ok: reports.every((r) => r.ok),
          tables: reports.flatMap((r) => r.tables),
          equal: reports.flatMap((r) => r.equal).sort(),
          liveCheckpoints: Object.assign({}, ...reports.map((r) => r.liveCheckpoints)),
          notes: [...notes, ...reports.flatMap((r) => r.notes)],
        };
      }
      // A rebuild that differs from the live read models is complete: it is the evidence, kept.
      return { complete: result.errors.length === 0, result, verify };
    }).catch((err: unknown) => {
      // The log could not be read to the end (the file is gone already): said in one line.
      if (err instanceof DomainError) throw err;
      const why = (err instanceof Error ? err.message : String(err)).slice(0, 200);
      console.error(`error: the replay stopped: ${why}; removed the partial ${out}`);
      return undefined;
    });
    if (!built) return 1;
    const { result, verify } = built;
    const removed = result.errors.length > 0;
    const ok = !removed && (verify?.ok ?? true);
    const human = [
      `rebuilt ${result.events} events (up to position ${result.position}) in ${(result.durationMs / 1000).toFixed(1)} s ${removed ? `(incomplete: ${out} removed)` : `into ${out}`}`,
      ...result.errors.map((e) => `projection ${e.projection} stopped at an error: ${e.message}`),
      ...(verify
        ? [
            `verify: ${verify.equal.length} table(s) equal to the live ones${verify.equal.length ? ` (${verify.equal.join(', ')})` : ''}`,
            ...(verify.tables.length ? [`differing tables:`, ...verify.tables.map(describeDiff)] : []),
            ...verify.notes.map((n) => `note: ${n}`),
          ]
        : []),
    ].join('\n');
    ctx.out(human, { out, ...(removed ? { removed } : {}), position: result.position, events: result.events, durationMs: Math.round(result.durationMs), errors: result.errors, ...(verify ? { verify } : {}) });
    if (!ok) {
      const why = [
        ...(verify && !verify.ok ? [`rebuilt read models differ from the live ones in ${verify.tables.map((t) => t.table).join(', ')} (the rebuilt ones are kept in ${out})`] : []),
        ...(result.errors.length ? [`projection(s) ${result.errors.map((e) => e.projection).join(', ')} failed`] : []),
      ];
      console.error(`error: ${why.join('; ')}`);
      return 1;
    }
    return 0;
  } finally {
    for (const l of lives) l.db.close();
  }
};

const problemLine = (p: ChainReport['problems'][number]) => `  ${p.kind}  ${p.stream}@${p.revision}  (position ${p.position}, ${p.type}): ${p.detail}`;

export const runVerifyChain = async (ctx: CliContext): Promise<number> => {
  const bar = createProgressRenderer(process.stderr, { label: 'verify-chain' });
  const report = await verifyChain(ctx.store, { onProgress: bar.update });
  bar.done();
  const human = [
    `checked ${report.events} events in ${report.streams} streams in ${(report.durationMs / 1000).toFixed(1)} s: ${report.chained} chained, ${report.unchained} unchained`,
    ...(report.unchained
      ? [
          `information: ${report.unchained} event(s) carry no hash (appended without the chain, or before it existed), e.g.:`,
          ...report.unchainedSample.slice(0, 5).map((u) => `  ${u.stream}@${u.revision}  (position ${u.position}, ${u.type})`),
        ]
      : []),
    ...(report.problemCount
      ? [`${report.problemCount} problem(s):`, ...report.problems.map(problemLine), ...(report.problemCount > report.problems.length ? [`  … and ${report.problemCount - report.problems.length} more`] : [])]
      : ['no edited, reordered or missing events found']),
  ].join('\n');
  ctx.out(human, { ...report, durationMs: Math.round(report.durationMs) });
  if (!report.ok) {
    console.error(`error: the log has ${report.problemCount} integrity problem(s) (edited, reordered or missing events), first at ${report.problems[0]?.stream}@${report.problems[0]?.revision}`);
    return 1;
  }
  return 0;
};
