// One webhook HTTP attempt, shared by the SQLite worker (worker.ts) and the KurrentDB processor
// (kurrent/processor.ts), so both send and classify a failure (timeout, network error) alike.

/** What the receiver answered, or why it could not answer. */
export type AttemptResult = { status: number } | { error: string };

/** POSTs `body` to `url` within timeoutMs; redirects are not followed and the response body is
 * discarded. 'aborted' when `signal` (shutting down) ended it. Never throws. */
export const postWebhook = async (o: {
  fetch: typeof globalThis.fetch;
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
}): Promise<AttemptResult | 'aborted'> => {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  try {
    const res = await o.fetch(o.url, { method: 'POST', body: o.body, headers: o.headers, redirect: 'manual', signal: AbortSignal.any([timeout, o.signal]) });
    await res.body?.cancel().catch(() => {});
    return { status: res.status };
  } catch (err) {
    if (o.signal.aborted) return 'aborted';
    if (timeout.aborted) return { error: `timeout after ${o.timeoutMs} ms` };
    const cause = (err as { cause?: { code?: string } }).cause;
    return { error: `network error${cause?.code ? `: ${cause.code}` : ''}` };
  }
};

/** A 2xx answer. */
export const isSuccess = (r: AttemptResult): boolean => 'status' in r && r.status >= 200 && r.status < 300;

/** The attempt as recorded and logged: `http <status>`, or why there was no answer. */
export const describeAttempt = (r: AttemptResult): string => ('status' in r ? `http ${r.status}` : r.error);
