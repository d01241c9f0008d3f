// The MFA gate, one use case: a verification completes, then the tenant's policies decide whether
// it is enough ("payment needs sms + totp within 300 s"). Every channel's verification runs
// through it. It reads the policies (from the log, at most POLICY_MAX_AGE_MS old: a read per
// tenant per interval, not per call) and, when one could apply, the verifications
// read model BEFORE the verification appends anything: if that read model is not current the
// call answers UNAVAILABLE and no code or challenge is spent. The verification that succeeds is
// recorded either way, so it counts toward the next one even when the answer is MFA_REQUIRED.
import type { Channel } from '../domain/channel.ts';
import { DomainError } from '../domain/errors.ts';
import { evaluatePolicies, type MfaPolicy, mfaPolicyStream, policyDecider, policyMatches } from '../domain/policy/index.ts';
import { loadRecent } from '../eventstore/handle-command.ts';
import type { EventStore } from '../eventstore/port.ts';
import type { ReadYourWrites } from './read-models.ts';

/** Channels verified for a tenant's user at or after sinceMs (the mfa-verifications read model). */
export type VerifiedChannels = (tenantId: string, userId: string, sinceMs: number) => ReadonlySet<string> | Promise<ReadonlySet<string>>;

/** What a verification answers, as far as the gate is concerned. */
export type GatedVerification = { verified: boolean; userId?: string; purpose?: string };

export type MfaGate = {
  /** Runs `verify` for the tenant under its MFA policies; throws MFA_REQUIRED (with the missing
   * channels and the unsatisfied policies) after a success that a policy finds insufficient.
   * Answers the verification's result and the policies it satisfied. */
  verify: <R extends GatedVerification>(tenantId: string, channel: Channel, verify: () => Promise<R>) => Promise<R & { matchedPolicies: string[] }>;
  /** The same decision for a verification that is about to succeed, before it writes anything (a
   * push approval is used only when the policies let it through). Throws MFA_REQUIRED. */
  check: (tenantId: string, channel: Channel, v: { userId?: string; purpose?: string }) => Promise<string[]>;
};

/** The policy decision for a verification that succeeded: the policies it satisfied; throws MFA_REQUIRED. */
const decide = async (policies: readonly MfaPolicy[], v: { tenantId: string; userId?: string; channel: Channel; purpose?: string }, now: number, verifiedChannels: VerifiedChannels) => {
  if (!v.userId) return []; // without a user no per-user policy can apply
  const verification = { purpose: v.purpose, channel: v.channel };
  const matching = policies.filter((p) => policyMatches(p, verification));
  if (!matching.length) return [];
  // One read per distinct window among the matching policies.
  const windows = new Map<number, ReadonlySet<string>>();
  for (const p of matching) {
    if (!windows.has(p.withinSeconds)) windows.set(p.withinSeconds, await verifiedChannels(v.tenantId, v.userId, now - p.withinSeconds * 1000));
  }
  const verdict = evaluatePolicies(matching, verification, (s) => windows.get(s)!);
  if (verdict.ok) return verdict.matchedPolicies;
  throw new DomainError('MFA_REQUIRED', `a tenant policy requires more verification for this user: ${verdict.requiredChannels.join(', ')}`, {
    requiredChannels: verdict.requiredChannels,
    matchedPolicies: verdict.matchedPolicies,
  });
};

/** How long the gate may use policies it read (or wrote) without reading their stream again: a
 * policy changed through another process (the admin CLI, another node) applies within this;
 * one changed through this process, at once. */
export const POLICY_MAX_AGE_MS = 100;

export const createMfaGate = (deps: { store: EventStore; now: () => number; readModels: Pick<ReadYourWrites, 'current'>; verifiedChannels: VerifiedChannels }): MfaGate => {
  const policiesOf = async (tenantId: string, channel: Channel) => {
    const policies = [...(await loadRecent(deps.store, mfaPolicyStream(tenantId), policyDecider, POLICY_MAX_AGE_MS)).state.policies.values()];
    // Before anything is appended: the verifications a policy of this channel would read are current.
    if (policies.some((p) => !p.match.channels?.length || p.match.channels.includes(channel))) await deps.readModels.current(['mfa-verifications']);
    return policies;
  };
  return {
    verify: async (tenantId, channel, verify) => {
      const policies = await policiesOf(tenantId, channel);
      const r = await verify();
      const matchedPolicies = r.verified ? await decide(policies, { tenantId, userId: r.userId, channel, purpose: r.purpose }, deps.now(), deps.verifiedChannels) : [];
      return { ...r, matchedPolicies };
    },
    check: async (tenantId, channel, v) => decide(await policiesOf(tenantId, channel), { tenantId, userId: v.userId, channel, purpose: v.purpose }, deps.now(), deps.verifiedChannels),
  };
};
