// Turns a client subscription (a Node Readable of resolved events that also emits 'confirmation')
// into an async iterator: it yields the events, ends when `stopped()` becomes true (signal aborted
// or store closed; call the returned `wake` then), and throws the stream's error. A subscription
// the server has not confirmed within `confirmMs` fails with StoreUnavailableError (and calls
// onUnconfirmed, so the caller can drop a stuck connection), so a server that accepts connections
// but never answers does not leave the caller waiting forever.
import type { Readable } from 'node:stream';
import { StoreUnavailableError } from '../port.ts';

export type ClientSubscription = Readable & { unsubscribe: () => Promise<void> };

const HIGH_WATER = 256;
const LOW_WATER = 64;

export const drainSubscription = <T>(sub: ClientSubscription, opts: { stopped: () => boolean; confirmMs: number; onUnconfirmed?: () => void }) => {
  const queue: T[] = [];
  let failure: unknown;
  let ended = false;
  let confirmed = false;
  let waiting: (() => void) | undefined;
  const wake = () => {
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  const onData = (e: T) => {
    confirmed = true;
    queue.push(e);
    if (queue.length >= HIGH_WATER) sub.pause();
    wake();
  };
  const onError = (err: unknown) => {
    failure ??= err;
    wake();
  };
  const onEnd = () => {
    ended = true;
    wake();
  };
  const onConfirmation = () => {
    confirmed = true;
  };
  sub.on('data', onData).on('error', onError).on('end', onEnd).on('close', onEnd).on('confirmation', onConfirmation);
  const timer = setTimeout(() => {
    if (confirmed) return;
    onError(new StoreUnavailableError(`event store unavailable: the subscription was not confirmed within ${opts.confirmMs} ms`));
    opts.onUnconfirmed?.();
  }, opts.confirmMs);

  async function* events(): AsyncGenerator<T> {
    try {
      for (;;) {
        if (opts.stopped()) return;
        if (queue.length > 0) {
          const e = queue.shift()!;
          if (queue.length <= LOW_WATER && sub.isPaused()) sub.resume();
          yield e;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (ended) throw new StoreUnavailableError('event store unavailable: the server ended the subscription');
        await new Promise<void>((resolve) => (waiting = resolve));
      }
    } finally {
      clearTimeout(timer);
      sub.off('data', onData).off('end', onEnd).off('close', onEnd).off('confirmation', onConfirmation);
      // Keep an error listener: a late stream error must not become an uncaught exception.
      // Not awaited: unsubscribing waits for the call to exist, which a dead server may delay.
      sub.unsubscribe().then(() => sub.destroy(), () => sub.destroy());
    }
  }
  return { events: events(), wake };
};
