// The one error a sender throws when a provider cannot take the message. `reason` is short and
// safe to store in an event or log ("http 503", "timeout", "smtp 550"): never a provider's message
// text, which may echo the destination. The application maps it to UNAVAILABLE.
// (Shared by the SMS and email senders.)

export class ProviderError extends Error {
  readonly provider: string;
  readonly reason: string;
  readonly status: number | undefined;
  constructor(provider: string, reason: string, opts: { status?: number; cause?: unknown } = {}) {
    super(`${provider} provider did not accept the message: ${reason}`, { cause: opts.cause });
    this.name = 'ProviderError';
    this.provider = provider;
    this.reason = reason;
    this.status = opts.status;
  }
}

/** A short, safe reason for any error thrown by a sender. */
export const deliveryFailureReason = (err: unknown): string => (err instanceof ProviderError ? err.reason : 'error');

/** Maps a fetch rejection to a ProviderError (timeout vs network). */
export const fetchFailure = (provider: string, err: unknown): ProviderError =>
  new ProviderError(provider, err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError') ? 'timeout' : 'network', { cause: err });

/** "1", "true", "yes", "on" (any case) → true. */
export const envFlag = (value: string | undefined): boolean => /^(1|true|yes|on)$/i.test(value?.trim() ?? '');
