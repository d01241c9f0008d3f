// What the channel services share: the caller, the MFA gate, and the server's public URL.
import type { HandlerContext } from '@connectrpc/connect';
import type { MfaGate } from '../../app/mfa-gate.ts';
import { getCaller } from '../context.ts';

export type ChannelDeps = {
  /** Every verification runs through it (src/app/mfa-gate.ts). */
  gate: MfaGate;
  /** Public URL of this server (default RP id and origin for passkeys). */
  publicUrl: string;
};

export const callerOf = (ctx: HandlerContext) => getCaller(ctx);
