// One webhook HTTP attempt, shared by the SQLite worker (worker.ts) and the KurrentDB processor
// (kurrent/processor.ts), so both check the target, send and classify a failure alike.
// The target is checked at delivery time (egress.ts) and the connection is made to the address
// that was checked; redirects are not followed; the response body is discarded.
import http from 'node:http';
import https from 'node:https';
import type { LookupAddress } from 'node:dns';
import { type EgressPolicy, type Lookup, resolveTarget, webhookUrlProblem } from './egress.ts';

/** What the receiver answered, or why it could not answer (refused: the target is not allowed). */
export type AttemptResult = { status: number } | { error: string; refused?: true };

export type PostOptions = {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  egress: EgressPolicy;
  /** Tests: resolve host names differently. */
  lookup?: Lookup;
  /** Tests only: send through this fetch instead (the target is still checked, the address not pinned). */
  fetch?: typeof globalThis.fetch;
};

/** A lookup that answers only the address already checked, in the form net.connect asks for. */
const pinnedLookup =
  (pinned: LookupAddress): NonNullable<http.RequestOptions['lookup']> =>
  (_host, opts, cb) => {
    if (opts.all) cb(null, [pinned]);
    else cb(null, pinned.address, pinned.family);
  };

const request = (u: URL, o: PostOptions, pinned: LookupAddress, signal: AbortSignal) =>
  new Promise<number>((resolve, reject) => {
    const req = (u.protocol === 'https:' ? https : http).request(
      {
        protocol: u.protocol,
        hostname: u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname,
        port: u.port || undefined,
        path: `${u.pathname}${u.search}`,
        method: 'POST',
        headers: { ...o.headers, 'Content-Length': String(Buffer.byteLength(o.body)) },
        lookup: pinnedLookup(pinned),
        agent: false,
        signal,
      },
      (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy(); // the body is not needed
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });

/** POSTs `body` to `url` within timeoutMs. 'aborted' when `signal` (shutting down) ended it. Never throws. */
export const postWebhook = async (o: PostOptions): Promise<AttemptResult | 'aborted'> => {
  const problem = webhookUrlProblem(o.url, o.egress);
  if (problem) return { error: `refused: ${problem}`, refused: true };
  const u = new URL(o.url);
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = AbortSignal.any([timeout, o.signal]);
  try {
    const target = await resolveTarget(u.hostname, o.egress, o.lookup);
    if (o.signal.aborted) return 'aborted';
    if (!target.ok) return target.refused ? { error: `refused: ${target.reason}`, refused: true } : { error: `network error: ${target.reason}` };
    if (o.fetch) {
      const res = await o.fetch(o.url, { method: 'POST', body: o.body, headers: o.headers, redirect: 'manual', signal });
      await res.body?.cancel().catch(() => {});
      return { status: res.status };
    }
    return { status: await request(u, o, target.addresses[0]!, signal) };
  } catch (err) {
    if (o.signal.aborted) return 'aborted';
    if (timeout.aborted) return { error: `timeout after ${o.timeoutMs} ms` };
    const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    return { error: `network error${code ? `: ${code}` : ''}` };
  }
};

/** A 2xx answer. */
export const isSuccess = (r: AttemptResult): boolean => 'status' in r && r.status >= 200 && r.status < 300;

/** The attempt as recorded and logged: `http <status>`, or why there was no answer. */
export const describeAttempt = (r: AttemptResult): string => ('status' in r ? `http ${r.status}` : r.error);
