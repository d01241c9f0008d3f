// Helpers around @kurrent/kurrentdb-client's KurrentDBClient, shared by the event store
// (index.ts) and webhook delivery (src/webhooks/kurrent).
import type { KurrentDBClient } from '@kurrent/kurrentdb-client';

/** Rejects with `<what> did not complete within <ms> ms` when `p` takes longer than `ms`. */
export const withTimeout = <T>(what: string, ms: number, p: Promise<T>): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });

/** The client keeps its gRPC channel private (dispose() cancels its streams but leaves the
 * channel open); closing it fails the calls stuck on it and lets the process exit. timeoutMs
 * (optional) bounds the wait for the channel. Never throws. */
export const closeChannel = async (client: KurrentDBClient, timeoutMs?: number): Promise<void> => {
  try {
    const pending = (client as unknown as { getChannel: () => Promise<{ close: () => void }> }).getChannel();
    const channel = await (timeoutMs === undefined ? pending : withTimeout('channel', timeoutMs, pending));
    channel.close();
  } catch {
    // no channel to close
  }
};
