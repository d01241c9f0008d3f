// What the channel services share: the caller, the MFA gate, and the server's public URL.
import type { JsonObject } from '@bufbuild/protobuf';
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

const isJsonObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value as a google.protobuf.Struct: plain JSON (keys set to undefined, which a Struct cannot
 * carry, are dropped; @simplewebauthn/server leaves some, e.g. extensions). */
export const structOf = (v: object): JsonObject => {
  const json: unknown = JSON.parse(JSON.stringify(v));
  if (!isJsonObject(json)) throw new Error('the value did not serialise to a JSON object');
  return json;
};
