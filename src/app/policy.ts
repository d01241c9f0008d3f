// Tenant MFA policies: put / list / delete (admin API and CLI). Verifications are decided on by
// the MFA gate (mfa-gate.ts).
import { type MfaPolicy, type PolicyInput, mfaPolicyStream, policyDecider } from '../domain/policy/index.ts';
import { handleCommand, loadState } from '../eventstore/handle-command.ts';
import type { EventMetadata, EventStore } from '../eventstore/port.ts';

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
  };
};
