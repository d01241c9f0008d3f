// What the channel services share: the caller, read-your-writes, and the MFA policy gate.
import type { HandlerContext } from '@connectrpc/connect';
import type { Channel } from '../../domain/channel.ts';
import { getCaller, type Caller } from '../context.ts';

export type ChannelDeps = {
  /** Read-your-writes: resolves once the read models include this position. */
  settle: (position: number) => Promise<void>;
  /** Read-your-writes for writes made by earlier calls: waits for the store's current head. */
  settleHead: () => Promise<void>;
  /**
   * Called after a successful verification has been recorded (and settled). Throws
   * DomainError('MFA_REQUIRED', ...) when a tenant policy needs more channels.
   */
  mfaGate: (caller: Caller, v: { userId?: string; channel: Channel; purpose?: string }) => Promise<void>;
  /** Public URL of this server (default RP id and origin for passkeys). */
  publicUrl: string;
};

export const callerOf = (ctx: HandlerContext) => getCaller(ctx);

/** Records, settles, then applies the MFA gate for a verification that succeeded. */
export const gateVerified = async (deps: ChannelDeps, caller: Caller, position: number, v: { userId?: string; channel: Channel; purpose?: string }) => {
  await deps.settle(position);
  await deps.mfaGate(caller, v);
};
