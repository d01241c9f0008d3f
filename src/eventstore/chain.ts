// Tamper evidence. Each event appended through handleCommand carries, in its metadata, `prevHash`
// (the hash of the previous event of its stream, or GENESIS_HASH) and `hash` = sha256 over
// canonical JSON of [prevHash, stream, revision, type, data, metadata without hash]. Editing,
// removing or reordering an event then breaks its own hash or the link of the next event.
// verifyChain walks the global log and reports what it finds; events appended without the chain
// are reported as "unchained", not as failures. (Deleting the LAST events of a stream leaves no
// trace in a per-stream chain; that needs an external anchor, e.g. a published head hash.)
import { hash } from 'node:crypto';
import type { EventMetadata, EventStore, NewEvent, StoredEvent } from './port.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted (recursively), after the same normalisation JSON storage applies
 * (undefined dropped, Dates as strings, NaN as null), so a value hashes the same before and after
 * a trip through the store. */
export const canonicalJson = (value: unknown): string => {
  try {
    return canonical(value ?? null) ?? 'null';
  } catch (err) {
    if (err instanceof NotPlain) return JSON.stringify(sortKeys(JSON.parse(JSON.stringify(value ?? null))));
    throw err;
  }
};

/** Thrown by the fast path on what only JSON.stringify itself renders faithfully (toJSON, boxed
 * values, cycles' errors, bigint): the slow path handles those. */
class NotPlain extends Error {}

/** In one pass, what JSON.stringify(sortKeys(JSON.parse(JSON.stringify(v)))) gives for plain data
 * (the hash of every stored event depends on this text: test/tamper-chain.test.ts compares both).
 * Keys sorted as sortKeys then JSON.stringify order them: array-index keys first, ascending, then
 * the others in code-unit order; undefined members dropped, in arrays null; non-finite numbers null. */
const canonical = (v: unknown, depth = 0): string | undefined => {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'object': {
      if (v === null) return 'null';
      if (depth > 100) throw new NotPlain();
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + (canonical(v[i], depth + 1) ?? 'null');
        return out + ']';
      }
      const proto = Object.getPrototypeOf(v);
      if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function') throw new NotPlain();
      const keys = Object.keys(v);
      let indices = false;
      for (const k of keys) {
        if (k === '__proto__') throw new NotPlain(); // sortKeys' assignment would drop it
        const c = k.charCodeAt(0);
        if (c >= 48 && c <= 57 && isArrayIndex(k)) indices = true;
      }
      sortCodeUnits(keys);
      const ordered = indices ? [...keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b)), ...keys.filter((k) => !isArrayIndex(k))] : keys;
      let out = '{';
      for (const k of ordered) {
        const c = canonical((v as Record<string, unknown>)[k], depth + 1);
        if (c !== undefined) out += (out.length === 1 ? '' : ',') + quotedKey(k) + ':' + c;
      }
      return out + '}';
    }
    default:
      throw new NotPlain(); // bigint: JSON.stringify throws, and so does the slow path
  }
};

/** keys.sort() (code-unit order), in place: an insertion sort, which for an event's few keys is
 * quicker than Array.prototype.sort and allocates no work array. */
const sortCodeUnits = (keys: string[]) => {
  if (keys.length > 32) return void keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > k; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = k;
  }
};

/** Event keys are few and come back on every event: each is quoted once. */
const quotedKeys = new Map<string, string>();
const quotedKey = (k: string) => {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quotedKeys.size < 10_000) quotedKeys.set(k, q);
  }
  return q;
};

const isArrayIndex = (k: string) => /^(?:0|[1-9]\d{0,9})$/.test(k) && Number(k) < 4294967295;

const sortKeys = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
};

export type ChainInput = { prevHash: string; stream: string; revision: number; type: string; data: unknown; metadata: EventMetadata };

export const eventHash = (e: ChainInput): string => {
  const { hash: _omit, ...metadata } = e.metadata;
  return hash('sha256', canonicalJson([e.prevHash, e.stream, e.revision, e.type, e.data, metadata]), 'hex'); // one-shot: no Hash object per event
};

/** The hash that links the next event to `last` (the stream's current last event, if any). */
export const linkHashOf = (last: { metadata?: EventMetadata } | undefined): string => {
  const h = last?.metadata?.hash;
  return typeof h === 'string' ? h : GENESIS_HASH;
};

/** Adds prevHash and hash to events about to be appended at revisions firstRevision, firstRevision+1, ... */
export const chainEvents = (stream: string, firstRevision: number, prevHash: string, events: NewEvent[]): NewEvent[] => {
  let prev = prevHash;
  return events.map((e, i) => {
    const metadata: EventMetadata = { ...e.metadata, prevHash: prev };
    delete metadata.hash;
    const hash = eventHash({ prevHash: prev, stream, revision: firstRevision + i, type: e.type, data: e.data, metadata });
    prev = hash;
    return { ...e, metadata: { ...metadata, hash } };
  });
};

// ---- progress (shared by verifyChain and replay) ----

export type Progress = {
  done: number;
  total: number;
  elapsedMs: number;
  /** Events per second so far. */
  rate: number;
  /** Estimated time left, ms (null until there is a rate). */
  etaMs: number | null;
};

export const progressOf = (done: number, total: number, elapsedMs: number): Progress => {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const left = Math.max(0, total - done);
  return { done, total, elapsedMs, rate, etaMs: rate > 0 ? (left / rate) * 1000 : left === 0 ? 0 : null };
};

// ---- verification ----

export type ChainProblemKind =
  /** The stored hash does not match the event's content: the event was edited. */
  | 'hash_mismatch'
  /** prevHash does not match the previous event's hash: an event was removed, inserted or replaced before it. */
  | 'broken_link'
  /** A revision is skipped: events are missing. */
  | 'revision_gap'
  /** A revision comes again or goes backwards in log order: events were reordered or duplicated. */
  | 'revision_order';

export type ChainProblem = { kind: ChainProblemKind; stream: string; revision: number; position: number; eventId: string; type: string; detail: string };

export type ChainReport = {
  /** True when no problem was found (unchained events alone do not make it false). */
  ok: boolean;
  events: number;
  streams: number;
  chained: number;
  /** Events without a hash (appended outside handleCommand, or before the chain existed). */
  unchained: number;
  unchainedSample: { stream: string; revision: number; position: number; type: string }[];
  problems: ChainProblem[];
  /** Problems found, including those beyond the listed ones. */
  problemCount: number;
  durationMs: number;
};

export type VerifyChainOptions = {
  onProgress?: (p: Progress) => void;
  /** Calls to onProgress are at most this often (ms). Default 250. */
  progressEveryMs?: number;
  pageSize?: number;
  /** Problems listed in the report (all are counted). Default 1000. */
  maxProblems?: number;
  clock?: () => number;
};

/** Walks the whole log in order and checks every stream's chain. */
export const verifyChain = async (store: EventStore, opts: VerifyChainOptions = {}): Promise<ChainReport> => {
  const clock = opts.clock ?? (() => performance.now());
  const pageSize = opts.pageSize ?? 1000;
  const maxProblems = opts.maxProblems ?? 1000;
  const every = opts.progressEveryMs ?? 250;
  const started = clock();
  const total = await store.headPosition();
  const streams = new Map<string, { revision: number; hash: string | null }>();
  const report: ChainReport = { ok: true, events: 0, streams: 0, chained: 0, unchained: 0, unchainedSample: [], problems: [], problemCount: 0, durationMs: 0 };
  const problem = (e: StoredEvent, kind: ChainProblemKind, detail: string) => {
    report.problemCount++;
    if (report.problems.length < maxProblems) report.problems.push({ kind, stream: e.streamName, revision: e.revision, position: e.position, eventId: e.id, type: e.type, detail });
  };
  let lastReport = started;
  let from = 0;
  for (;;) {
    const page = await store.readAll({ fromPosition: from, maxCount: pageSize });
    if (page.length === 0) break;
    for (const e of page) {
      report.events++;
      const prev = streams.get(e.streamName);
      const expectedRevision = prev ? prev.revision + 1 : 0;
      if (e.revision > expectedRevision) problem(e, 'revision_gap', `expected revision ${expectedRevision}, found ${e.revision}: ${e.revision - expectedRevision} event(s) missing`);
      else if (e.revision < expectedRevision) problem(e, 'revision_order', `revision ${e.revision} comes after revision ${expectedRevision - 1} in the log`);
      const hash = typeof e.metadata?.hash === 'string' ? e.metadata.hash : null;
      if (hash === null) {
        report.unchained++;
        if (report.unchainedSample.length < 20) report.unchainedSample.push({ stream: e.streamName, revision: e.revision, position: e.position, type: e.type });
        // A chained event followed by an unchained one: the hash was stripped, or an append bypassed handleCommand.
        if (prev?.hash) problem(e, 'broken_link', 'event has no hash although the previous event of its stream is chained');
      } else {
        report.chained++;
        const prevHash = typeof e.metadata.prevHash === 'string' ? e.metadata.prevHash : '';
        const expectedPrev = prev?.hash ?? GENESIS_HASH;
        // After an unchained predecessor, a chain starts again from GENESIS_HASH.
        if (prevHash !== expectedPrev && !(prev && prev.hash === null && prevHash === GENESIS_HASH)) {
          problem(e, 'broken_link', prev ? `prevHash does not match the hash of revision ${prev.revision}` : 'first event of the stream does not start the chain');
        }
        if (eventHash({ prevHash, stream: e.streamName, revision: e.revision, type: e.type, data: e.data, metadata: e.metadata }) !== hash) {
          problem(e, 'hash_mismatch', 'content does not match its hash (edited)');
        }
      }
      streams.set(e.streamName, { revision: Math.max(e.revision, prev?.revision ?? -1), hash });
    }
    from = page[page.length - 1].position;
    const t = clock();
    if (opts.onProgress && t - lastReport >= every) {
      lastReport = t;
      opts.onProgress(progressOf(from, Math.max(total, from), t - started));
    }
  }
  report.streams = streams.size;
  report.durationMs = clock() - started;
  report.ok = report.problemCount === 0;
  opts.onProgress?.(progressOf(from, Math.max(total, from), report.durationMs));
  return report;
};
