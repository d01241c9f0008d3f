// Tenant MFA policies: "when a verification matches (purpose, channel), these channels must all
// have been verified for the same user within N seconds". Stored as events on one stream per
// tenant; evaluated by a pure function against the user's recently verified channels.
import { assertNever, type Decider } from '../decider.ts';
import { CHANNELS, type Channel } from '../channel.ts';
import { DomainError } from '../errors.ts';

export { CHANNELS, type Channel } from '../channel.ts';

export const DEFAULT_WITHIN_SECONDS = 300;
export const MAX_WITHIN_SECONDS = 86_400;
export const MAX_POLICIES = 100;

export type PolicyMatch = {
  /** Empty or absent: any purpose. */
  purpose?: string;
  /** Channels whose verification triggers the policy; empty or absent: any channel. */
  channels?: Channel[];
};

export type MfaPolicy = { name: string; match: PolicyMatch; requiredChannels: Channel[]; withinSeconds: number };

export type PolicyEvent =
  | { type: 'PolicyPut'; data: MfaPolicy & { tenantId: string; at: number } }
  | { type: 'PolicyDeleted'; data: { tenantId: string; name: string; at: number } };

export type PolicyCommand =
  | { type: 'PutPolicy'; data: { tenantId: string; policy: PolicyInput; at: number } }
  | { type: 'DeletePolicy'; data: { tenantId: string; name: string; at: number } };

/** What a caller may send: loosely typed, checked by validatePolicy. */
export type PolicyInput = {
  name: string;
  match?: { purpose?: string; channels?: string[] };
  requiredChannels: string[];
  withinSeconds?: number;
};

/** Policies by name, in the order they were first put. */
export type PolicyState = { policies: Map<string, MfaPolicy> };

export const mfaPolicyStream = (tenantId: string) => `mfapolicy-${tenantId}`;

const bad = (field: string, expected: string, got?: unknown): never => {
  throw new DomainError('INVALID_ARGUMENT', `${field}: expected ${expected}${got === undefined ? '' : `, got ${JSON.stringify(got)?.slice(0, 40)}`}`);
};

const channelList = (field: string, v: unknown, nonEmpty: boolean): Channel[] => {
  if (v === undefined || v === null) return nonEmpty ? bad(field, `a non-empty list of channels (${CHANNELS.join(', ')})`) : [];
  if (!Array.isArray(v)) return bad(field, `a list of channels (${CHANNELS.join(', ')})`, v);
  const out: Channel[] = [];
  for (const c of v) {
    const n = typeof c === 'string' ? c.trim().toLowerCase() : c;
    if (!(CHANNELS as readonly unknown[]).includes(n)) bad(field, `channels among ${CHANNELS.join(', ')}`, c);
    if (!out.includes(n as Channel)) out.push(n as Channel);
  }
  if (nonEmpty && out.length === 0) bad(field, `a non-empty list of channels (${CHANNELS.join(', ')})`);
  return out;
};

/** Checks a policy; returns it normalised (channels lower-cased and de-duplicated, default window). */
export const validatePolicy = (p: PolicyInput): MfaPolicy => {
  const name = typeof p.name === 'string' ? p.name.trim() : '';
  if (!name || name.length > 100) bad('name', 'a name of 1 to 100 characters');
  const purpose = p.match?.purpose;
  if (purpose !== undefined && (typeof purpose !== 'string' || purpose.length > 64)) bad('match.purpose', 'a purpose of at most 64 characters', purpose);
  const within = p.withinSeconds === undefined || p.withinSeconds === 0 ? DEFAULT_WITHIN_SECONDS : p.withinSeconds;
  if (!Number.isInteger(within) || within < 1 || within > MAX_WITHIN_SECONDS) bad('withinSeconds', `an integer from 1 to ${MAX_WITHIN_SECONDS}`, within);
  const match: PolicyMatch = {};
  if (purpose?.trim()) match.purpose = purpose.trim();
  const channels = channelList('match.channels', p.match?.channels, false);
  if (channels.length) match.channels = channels;
  return { name, match, requiredChannels: channelList('requiredChannels', p.requiredChannels, true), withinSeconds: within };
};

const samePolicy = (a: MfaPolicy, b: MfaPolicy) => JSON.stringify(a) === JSON.stringify(b);

export const policyDecider: Decider<PolicyCommand, PolicyEvent, PolicyState> = {
  initialState: () => ({ policies: new Map() }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'PolicyPut': {
        const { name, match, requiredChannels, withinSeconds } = event.data;
        return { policies: new Map(state.policies).set(name, { name, match, requiredChannels, withinSeconds }) };
      }
      case 'PolicyDeleted': {
        const policies = new Map(state.policies);
        policies.delete(event.data.name);
        return { policies };
      }
      default:
        return ignoreUnknown(event, state);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'PutPolicy': {
        const policy = validatePolicy(command.data.policy);
        const existing = state.policies.get(policy.name);
        if (existing && samePolicy(existing, policy)) return [];
        if (!existing && state.policies.size >= MAX_POLICIES) bad('name', `a tenant may have at most ${MAX_POLICIES} policies; delete one first`);
        return [{ type: 'PolicyPut', data: { tenantId: command.data.tenantId, ...policy, at: command.data.at } }];
      }
      case 'DeletePolicy': {
        const name = command.data.name.trim();
        if (!state.policies.has(name)) throw new DomainError('NOT_FOUND', 'no MFA policy with this name');
        return [{ type: 'PolicyDeleted', data: { tenantId: command.data.tenantId, name, at: command.data.at } }];
      }
      default:
        return assertNever(command);
    }
  },
};

const ignoreUnknown = (_event: never, state: PolicyState): PolicyState => state;

export const policyMatches = (p: MfaPolicy, v: { purpose?: string; channel: string }) =>
  (!p.match.purpose || p.match.purpose === v.purpose) && (!p.match.channels?.length || (p.match.channels as string[]).includes(v.channel));

export type PolicyVerdict = { ok: true; matchedPolicies: string[] } | { ok: false; requiredChannels: Channel[]; matchedPolicies: string[] };

/**
 * Evaluates the policies matching a verification. `verifiedWithin(seconds)` gives the channels
 * verified for the user in the last `seconds`; the channel being verified now always counts.
 * Not ok: the channels still missing (in policy order, de-duplicated) and the unsatisfied policies' names.
 */
export const evaluatePolicies = (
  policies: Iterable<MfaPolicy>,
  verification: { purpose?: string; channel: string },
  verifiedWithin: (withinSeconds: number) => ReadonlySet<string>,
): PolicyVerdict => {
  const matched: string[] = [];
  const unsatisfied: string[] = [];
  const missing: Channel[] = [];
  for (const p of policies) {
    if (!policyMatches(p, verification)) continue;
    matched.push(p.name);
    const done = verifiedWithin(p.withinSeconds);
    const lacking = p.requiredChannels.filter((c) => c !== verification.channel && !done.has(c));
    if (!lacking.length) continue;
    unsatisfied.push(p.name);
    for (const c of lacking) if (!missing.includes(c)) missing.push(c);
  }
  return missing.length ? { ok: false, requiredChannels: missing, matchedPolicies: unsatisfied } : { ok: true, matchedPolicies: matched };
};
