// The tenants the console knows and the one the Webhooks, Audit and Insights pages look at
// (shared between pages, in memory).
import { api } from './api.js';
import { h } from './dom.js';

export const state = { tenants: [], tenantId: '' };

export const loadTenants = async () => {
  state.tenants = (await api('GET', 'tenants')).tenants;
  if (!state.tenants.some((t) => t.tenantId === state.tenantId)) state.tenantId = state.tenants[0]?.tenantId ?? '';
  return state.tenants;
};

/** A tenant picker bound to state.tenantId; `all` adds "All tenants" (value ''). */
export const tenantPicker = (onChange, opts = {}) => {
  const select = h(
    'select',
    { id: opts.id ?? 'tenantPick', onchange: () => ((state.tenantId = select.value), onChange(select.value)) },
    opts.all ? h('option', { value: '', text: 'All tenants' }) : null,
    state.tenants.map((t) => h('option', { value: t.tenantId, text: `${t.name} (${t.tenantId})` })),
  );
  select.value = opts.all && opts.allSelected ? '' : state.tenantId;
  return h('div', { class: 'field inline' }, h('label', { for: select.id, text: 'Tenant' }), select);
};

