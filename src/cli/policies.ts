// `npm run admin -- policy put|list|delete`: tenant MFA policies, written to the event store like
// the admin API does (src/app/policy.ts). A running server applies them on its next check.
import { createPolicyService, type PolicyService } from '../app/policy.ts';
import type { MfaPolicy } from '../domain/policy/index.ts';
import { DomainError } from '../domain/errors.ts';
import { tenantDecider, tenantStream } from '../domain/tenant/index.ts';
import { loadState } from '../eventstore/handle-command.ts';
import type { EventStore } from '../eventstore/port.ts';

export const POLICY_HELP = `  policy put --tenant TENANT_ID --name NAME --require CH,CH [--purpose P] [--channels CH,CH] [--within SECONDS] [--json]
                                                           create or replace an MFA policy: a verification with purpose P
                                                           (and, with --channels, on one of those channels) needs every
                                                           --require channel (sms, email, totp, webauthn, push,
                                                           recovery) verified for the same user within SECONDS
                                                           (default 300)
  policy list --tenant TENANT_ID [--json]                  list the tenant's MFA policies
  policy delete --tenant TENANT_ID --name NAME [--json]    delete an MFA policy`;

/** parseArgs options the policy commands add (--tenant, --name and --json are shared). */
export const POLICY_OPTIONS = {
  purpose: { type: 'string' },
  require: { type: 'string' },
  channels: { type: 'string' },
  within: { type: 'string' },
} as const;

export type PolicyArgs = { tenant?: string; name?: string; purpose?: string; require?: string; channels?: string; within?: string };

type Out = (human: string, json: Record<string, unknown>) => void;

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

const seconds = (v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw new DomainError('INVALID_ARGUMENT', `--within: expected a whole number of seconds, got ${JSON.stringify(v.slice(0, 20))}`);
  return Number(v);
};

const summary = (p: MfaPolicy) => {
  const when = [p.match.purpose ? `purpose ${p.match.purpose}` : 'any purpose', p.match.channels?.length ? `on ${p.match.channels.join('/')}` : ''].filter(Boolean).join(' ');
  return `${p.name}: ${when} requires ${p.requiredChannels.join(' + ')} within ${p.withinSeconds} s`;
};

const asJson = (p: MfaPolicy) => ({ name: p.name, match: { purpose: p.match.purpose ?? '', channels: p.match.channels ?? [] }, requiredChannels: p.requiredChannels, withinSeconds: p.withinSeconds });

const mustBeTenant = async (store: EventStore, tenantId: string) => {
  const { state } = await loadState(store, tenantStream(tenantId), tenantDecider);
  if (state.status !== 'active') throw new DomainError('TENANT_NOT_FOUND', `no tenant ${tenantId}`);
};

/** Runs `policy <verb>`; returns the exit code. */
export const runPolicyCommand = async (
  verb: string | undefined,
  args: PolicyArgs,
  deps: { store: EventStore; out: Out; need: (v: string | undefined, flag: string) => string; meta: Record<string, unknown>; policies?: PolicyService },
): Promise<number> => {
  const { store, out, need } = deps;
  if (verb !== 'put' && verb !== 'list' && verb !== 'delete') {
    throw new DomainError('INVALID_ARGUMENT', `unknown policy command ${JSON.stringify(verb ?? '')}: expected put, list or delete (see --help)`);
  }
  const policies = deps.policies ?? createPolicyService({ store, now: () => Date.now() });
  const tenantId = need(args.tenant, 'tenant');
  switch (verb) {
    case 'put': {
      const name = need(args.name, 'name');
      const requiredChannels = list(need(args.require, 'require'));
      await mustBeTenant(store, tenantId);
      const p = await policies.put(tenantId, { name, match: { purpose: args.purpose, channels: list(args.channels) }, requiredChannels, withinSeconds: seconds(args.within) }, deps.meta);
      out(`policy saved: ${summary(p)}`, { policy: asJson(p) });
      return 0;
    }
    case 'list': {
      await mustBeTenant(store, tenantId);
      const all = await policies.list(tenantId);
      out(all.length ? all.map(summary).join('\n') : `no MFA policies for ${tenantId}`, { policies: all.map(asJson) });
      return 0;
    }
    case 'delete': {
      const name = need(args.name, 'name');
      await mustBeTenant(store, tenantId);
      await policies.delete(tenantId, name, deps.meta);
      out(`policy deleted: ${name}`, { deleted: true, name });
      return 0;
    }
  }
};
