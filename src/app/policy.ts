// Tenant MFA policies: put / list / delete (admin API and CLI), and check (called by every
// verification after its success event is appended, so that the verification itself counts
// toward later ones even when this check answers MFA_REQUIRED).
import { DomainError } from '../domain/errors.ts';
import { type MfaPolicy, type PolicyInput, evaluatePolicies, mfaPolicyStream, policyDecider, policyMatches } from '../domain/policy/index.ts';
import { handleCommand, loadState } from '../eventstore/handle-command.ts';
import type { EventMetadata, EventStore } from '../eventstore/port.ts';

export type VerifiedChannelsSince = (userId: string, sinceMs: number) => ReadonlySet<string> | Promise<ReadonlySet<string>>;

export type PolicyCheck = {
  /** The tenant's user id; without one no per-user policy can apply, and check passes. */
  userId?: string;
  purpose?: string;
  /** The channel being verified now: sms, email, totp, webauthn or push. */
  channel: string;
  /** Channels verified for the user since sinceMs (epoch ms), e.g. from projections/mfa-verifications. */
  verifiedChannelsSince: VerifiedChannelsSince;
};

export type PolicyService = ReturnType<typeof createPolicyService>;

export const createPolicyService = (deps: { store: EventStore; now: () => number }) => {
  const { store, now } = deps;
  const load = async (tenantId: string) => (await loadState(store, mfaPolicyStream(tenantId), policyDecider)).state;

  return {
    put: async (tenantId: string, policy: PolicyInput, metadata: EventMetadata = {}): Promise<MfaPolicy> => {
      const res = await handleCommand(store, mfaPolicyStream(tenantId), policyDecider, { type: 'PutPolicy', data: { tenantId, policy, at: now() } }, { metadata: { ...metadata, tenantId } });
      return res.state.policies.get(policy.name.trim())!;
    },

    list: async (tenantId: string): Promise<MfaPolicy[]> => [...(await load(tenantId)).policies.values()],

    delete: async (tenantId: string, name: string, metadata: EventMetadata = {}): Promise<{ deleted: true }> => {
      await handleCommand(store, mfaPolicyStream(tenantId), policyDecider, { type: 'DeletePolicy', data: { tenantId, name: String(name ?? ''), at: now() } }, { metadata: { ...metadata, tenantId } });
      return { deleted: true };
    },

    /** Resolves when no policy stands in the way; throws DomainError('MFA_REQUIRED') otherwise. */
    check: async (tenantId: string, c: PolicyCheck): Promise<{ matchedPolicies: string[] }> => {
      if (!c.userId) return { matchedPolicies: [] };
      const verification = { purpose: c.purpose, channel: c.channel };
      const policies = [...(await load(tenantId)).policies.values()].filter((p) => policyMatches(p, verification));
      if (!policies.length) return { matchedPolicies: [] };
      const t = now();
      // One read per distinct window among the matching policies.
      const windows = new Map<number, ReadonlySet<string>>();
      for (const p of policies) {
        if (windows.has(p.withinSeconds)) continue;
        windows.set(p.withinSeconds, await c.verifiedChannelsSince(c.userId, t - p.withinSeconds * 1000));
      }
      const verdict = evaluatePolicies(policies, verification, (s) => windows.get(s)!);
      if (verdict.ok) return { matchedPolicies: verdict.matchedPolicies };
      throw new DomainError('MFA_REQUIRED', `a tenant policy requires more verification for this user: ${verdict.requiredChannels.join(', ')}`, {
        requiredChannels: verdict.requiredChannels,
        matchedPolicies: verdict.matchedPolicies,
      });
    },
  };
};
