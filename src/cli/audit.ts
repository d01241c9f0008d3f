// `npm run admin -- audit export | history`: the audit trail as JSON Lines, and one user's or
// one stream's history in order, decoded, with personal data masked (src/app/history.ts).
import { once } from 'node:events';
import { auditJsonLines, auditProjection, type AuditFilter } from '../../projections/audit/index.ts';
import { formatHistory, streamHistory, userHistory, type HistoryEntry } from '../app/history.ts';
import { createUserKeys } from '../app/user-keys.ts';
import { DomainError } from '../domain/errors.ts';
import { openCaughtUp, type CliContext } from './replay.ts';
import { readModelsPath } from '../config.ts';

export const AUDIT_HELP = `  audit export [--tenant T] [--user U] [--from ISO] [--to ISO]
                                                           the audit trail as JSON Lines on stdout, oldest first (--from
                                                           inclusive, --to exclusive); use \`npm run -s admin -- ...\` (or
                                                           node src/cli/main.ts) so npm's banner stays out of the file
  history --tenant T --user U [--json]                     one user's history in log order, decoded, personal data masked
                                                           (an erased user's events read [erased])
  history --stream STREAM [--json]                         one stream's history in order, decoded, personal data masked`;

export const AUDIT_OPTIONS = {
  user: { type: 'string' },
  stream: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
} as const;

export type AuditArgs = { tenant?: string; user?: string; stream?: string; from?: string; to?: string };

const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

const time = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const ms = ISO.test(v.trim()) ? Date.parse(v.trim()) : NaN;
  if (Number.isNaN(ms)) throw new DomainError('INVALID_ARGUMENT', `--${flag}: expected an ISO 8601 date or time (2026-01-31 or 2026-01-31T12:00:00Z), got ${JSON.stringify(v.slice(0, 40))}`);
  return ms;
};

/** Writes lines, waiting for 'drain' whenever the stream's buffer is full; stops quietly when the
 * reader goes away (`| head`). Returns the number of lines written. */
export const writeLines = async (lines: Iterable<string>, stream: NodeJS.WritableStream = process.stdout): Promise<number> => {
  let closed = false;
  stream.on('error', () => void (closed = true)); // EPIPE: the reader is gone
  let n = 0;
  for (const line of lines) {
    if (closed) break;
    n++;
    if (!stream.write(`${line}\n`)) {
      try {
        await once(stream, 'drain');
      } catch {
        break;
      }
    }
  }
  return n;
};

export const runAuditExport = async (args: AuditArgs, ctx: CliContext): Promise<number> => {
  if (args.user && !args.tenant) throw new DomainError('INVALID_ARGUMENT', '--user: give --tenant too (a user id is the tenant\'s)');
  const users = createUserKeys({ store: ctx.store, keyring: ctx.privacy.keyring });
  const user = args.user && args.tenant ? { userId: args.user, userKeys: await users.all(args.tenant, args.user) } : undefined;
  const filter: AuditFilter = { tenantId: args.tenant, user, from: time(args.from, 'from'), to: time(args.to, 'to') };
  if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to) throw new DomainError('INVALID_ARGUMENT', '--from: expected a time before --to');
  const db = await openCaughtUp(readModelsPath(ctx.config), ctx.store, [auditProjection]);
  try {
    const n = await writeLines(auditJsonLines(db, ctx.privacy.personal.openValue, filter));
    console.error(`exported ${n} audit record(s)`);
    return 0;
  } finally {
    db.close();
  }
};

export const runHistory = async (args: AuditArgs, ctx: CliContext): Promise<number> => {
  let entries: HistoryEntry[];
  let what: string;
  if (args.stream) {
    if (args.user) throw new DomainError('INVALID_ARGUMENT', 'history: give either --stream, or --tenant with --user, not both');
    entries = await streamHistory(ctx.store, ctx.privacy.personal, args.stream);
    what = `stream ${args.stream}`;
  } else {
    if (!args.tenant && !args.user) throw new DomainError('INVALID_ARGUMENT', 'history: --stream, or --tenant with --user, is required (see --help)');
    const tenantId = ctx.need(args.tenant, 'tenant');
    const userId = ctx.need(args.user, 'user');
    // The audit trail names the shared streams (one-time codes) that mention the user.
    const auditDb = await openCaughtUp(readModelsPath(ctx.config), ctx.store, [auditProjection]);
    try {
      const { keyring, personal } = ctx.privacy;
      entries = await userHistory({ store: ctx.store, keyring, personal, users: createUserKeys({ store: ctx.store, keyring }), tenantId, userId, auditDb });
    } finally {
      auditDb.close();
    }
    what = `user ${userId} of tenant ${tenantId}`;
  }
  ctx.out(entries.length ? formatHistory(entries) : `no events for ${what}`, { entries });
  return 0;
};
