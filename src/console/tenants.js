// Tenants: the list and creation (the API key and webhook secret shown once); one tenant's keys
// (issue, revoke), settings (a form generated from the server's settings table; the server
// validates and its message is shown at the field) and MFA policies (create, list, delete).
import { api } from './api.js';
import { busy, clear, confirmAction, field, h, showError, showOnce, status, table, time } from './dom.js';
import { loadTenants, state } from './state.js';

const CHANNELS = ['sms', 'email', 'totp', 'webauthn', 'push', 'recovery'];
const GROUPS = { general: 'General', otp: 'One-time codes (SMS and email)', sms: 'SMS', totp: 'Authenticator apps (TOTP)', webauthn: 'Passkeys', push: 'Push approval' };

export const renderTenants = async (root, [tenantId]) => (tenantId ? renderTenant(root, decodeURIComponent(tenantId)) : renderList(root));

const renderList = async (root) => {
  const name = h('input', { required: true, maxlength: '100', autocomplete: 'off' });
  const webhookUrl = h('input', { type: 'url', autocomplete: 'off', placeholder: 'https://example.com/hooks/securekey' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'card', novalidate: true, 'aria-labelledby': 'createTitle', id: 'createTenant' },
    h('h2', { id: 'createTitle', text: 'Create a tenant' }),
    h('div', { class: 'row' }, field('newName', 'Name', name), field('newWebhookUrl', 'Webhook URL (optional)', webhookUrl)),
    h('button', { type: 'submit', text: 'Create tenant' }),
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    await busy(e.submitter, async () => {
      try {
        const r = await api('POST', 'tenants', { name: name.value.trim(), webhookUrl: webhookUrl.value.trim() });
        status(`Tenant ${r.tenantId} created`);
        showOnce(`Tenant ${name.value.trim()} created`, [['Tenant id', r.tenantId], ['API key', r.apiKey], ['Webhook secret', r.webhookSecret]]);
        form.reset();
        await loadTenants();
        drawList();
      } catch (err) {
        showError(error, err);
      }
    });
  });
  const list = h('section', { class: 'card', 'aria-labelledby': 'tenantsTitle' });
  const drawList = () =>
    clear(
      list,
      h('h2', { id: 'tenantsTitle', text: `Tenants (${state.tenants.length})` }),
      table(
        [
          { label: 'Name', cell: (t) => h('a', { href: `#/tenants/${encodeURIComponent(t.tenantId)}`, text: t.name }) },
          { label: 'Tenant id', cell: (t) => h('code', { text: t.tenantId }) },
          { label: 'Created', cell: (t) => time(t.createdAt) },
          { label: 'Active keys', cell: (t) => String(t.keys.filter((k) => !k.revoked).length) },
          { label: 'Webhook', cell: (t) => t.settings.webhookUrl || '—' },
        ],
        state.tenants,
        { label: 'Tenants', empty: 'No tenants yet: create one.' },
      ),
    );
  drawList();
  clear(root, h('h1', { text: 'Tenants' }), list, form);
};

const renderTenant = async (root, tenantId) => {
  const [tenant, schema, policies] = await Promise.all([api('GET', `tenants/${encodeURIComponent(tenantId)}`), api('GET', 'settings-schema'), api('GET', `tenants/${encodeURIComponent(tenantId)}/policies`)]);
  state.tenantId = tenantId;
  const t = encodeURIComponent(tenantId);
  // Called from busy(), which puts the focus back where the keyboard user was after the redraw.
  const reload = () => renderTenant(root, tenantId);
  clear(
    root,
    h('p', {}, h('a', { href: '#/tenants', text: '← All tenants' })),
    h('h1', {}, tenant.name, ' ', h('code', { class: 'small', text: tenant.tenantId })),
    keysSection(tenant, t, reload),
    settingsSection(tenant, schema.settings, t),
    policiesSection(policies.policies, t, reload),
    webhookSecretSection(tenant, t),
  );
};

const keysSection = (tenant, t, reload) => {
  const name = h('input', { maxlength: '100', autocomplete: 'off', placeholder: 'e.g. ci' });
  const issue = h('form', { class: 'row end', novalidate: true }, field('keyName', 'New key name', name), h('button', { type: 'submit', text: 'Issue key' }));
  issue.addEventListener('submit', (e) => {
    e.preventDefault();
    void busy(e.submitter, async () => {
      const r = await api('POST', `tenants/${t}/keys`, { name: name.value.trim() || 'default' });
      showOnce('API key issued', [['Key id', r.keyId], ['API key', r.apiKey]]);
      status(`Key ${r.keyId} issued`);
      await reload();
    });
  });
  const revoke = (k) => async (e) => {
    const button = e.currentTarget;
    if (!(await confirmAction('Revoke this key?', `Revoke the key "${k.name}" (${k.prefix}…)? Calls made with it are refused from now on.`, 'Revoke key'))) return;
    await busy(button, async () => {
      await api('DELETE', `tenants/${t}/keys/${encodeURIComponent(k.keyId)}`);
      status(`Key ${k.keyId} revoked`);
      await reload();
    });
  };
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'keysTitle', id: 'keys' },
    h('h2', { id: 'keysTitle', text: 'API keys' }),
    table(
      [
        { label: 'Name', cell: (k) => k.name },
        { label: 'Key id', cell: (k) => h('code', { text: k.keyId }) },
        { label: 'Starts with', cell: (k) => h('code', { text: `${k.prefix}…` }) },
        { label: 'Created', cell: (k) => time(k.createdAt) },
        { label: 'State', cell: (k) => h('span', { class: `badge ${k.revoked ? 'bad' : 'good'}`, text: k.revoked ? 'revoked' : 'active' }) },
        { label: 'Action', cell: (k) => (k.revoked ? '' : h('button', { type: 'button', class: 'danger small', onclick: revoke(k), 'aria-label': `Revoke key ${k.name} (${k.keyId})`, text: 'Revoke' })) },
      ],
      tenant.keys,
      { label: 'API keys', rowProps: (k) => ({ dataset: { keyId: k.keyId } }) },
    ),
    issue,
  );
};

/** The control for a setting of the table, showing its current value (empty: the default). */
const controlFor = (s, value) => {
  if (s.type === 'boolean') {
    const def = s.defaultJson ? ` (default: ${s.defaultJson})` : '';
    const select = h('select', {}, h('option', { value: '', text: `unchanged${def}` }), h('option', { value: 'true', text: 'true' }), h('option', { value: 'false', text: 'false' }));
    select.value = value === undefined ? '' : String(value);
    return select;
  }
  const input = h('input', { type: s.type === 'integer' ? 'number' : 'text', inputmode: s.type === 'integer' ? 'numeric' : undefined, autocomplete: 'off', spellcheck: 'false' });
  if (s.type === 'integer' && s.min !== undefined) (input.min = String(s.min)), (input.max = String(s.max));
  input.placeholder = s.defaultJson ? `default: ${s.defaultJson}` : s.defaultNote ? `default: ${s.defaultNote}` : '';
  input.value = value === undefined ? '' : Array.isArray(value) ? value.join(', ') : String(value);
  return input;
};

/** The JSON value of a control, by the setting's type; undefined when left as it was. */
const valueOf = (s, control, before) => {
  const raw = control.value.trim();
  const shown = before === undefined ? '' : Array.isArray(before) ? before.join(', ') : String(before);
  if (raw === shown) return undefined;
  switch (s.type) {
    case 'integer':
      return raw === '' ? undefined : /^-?\d+$/.test(raw) ? Number(raw) : raw;
    case 'boolean':
      return raw === '' ? undefined : raw === 'true';
    case 'regions':
    case 'origins':
      return raw === '' ? [] : raw.split(',').map((x) => x.trim()).filter(Boolean);
    default:
      return raw;
  }
};

const settingsSection = (tenant, schema, t) => {
  const controls = new Map();
  const formError = h('p', { class: 'error', role: 'alert', hidden: true });
  const groups = Object.entries(GROUPS).map(([group, title]) => {
    const rows = schema.filter((s) => s.group === group);
    if (!rows.length) return null;
    return h(
      'fieldset',
      {},
      h('legend', { text: title }),
      rows.map((s) => {
        const control = controlFor(s, tenant.settings[s.name]);
        controls.set(s.name, { s, control, before: tenant.settings[s.name] });
        const unit = s.unit ? ` (${s.unit})` : '';
        return field(`setting-${s.name}`, `${s.name}${unit}`, control, `${s.description} Accepts ${s.accepts}.`);
      }),
    );
  });
  const form = h('form', { class: 'settings', novalidate: true, id: 'settingsForm' }, groups, h('button', { type: 'submit', text: 'Save settings' }), formError);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    formError.hidden = true;
    for (const { control } of controls.values()) {
      control.removeAttribute('aria-invalid');
      document.getElementById(`${control.id}-error`).textContent = '';
    }
    const settings = {};
    for (const [name, { s, control, before }] of controls) {
      const v = valueOf(s, control, before);
      if (v !== undefined) settings[name] = v;
    }
    if (!Object.keys(settings).length) return status('Nothing changed');
    void busy(e.submitter, async () => {
      try {
        const updated = await api('PATCH', `tenants/${t}/settings`, { settings });
        for (const [name, c] of controls) c.before = updated.settings[name];
        status(`Saved: ${Object.keys(settings).join(', ')}`);
      } catch (err) {
        // The server names the setting it refused ("settings.otpLength: expected ..."): show it there.
        const name = /^settings\.(\w+):/.exec(err.message)?.[1];
        const c = name && controls.get(name);
        if (c) {
          c.control.setAttribute('aria-invalid', 'true');
          document.getElementById(`${c.control.id}-error`).textContent = err.message;
          c.control.focus();
        }
        showError(formError, err);
      }
    });
  });
  return h('section', { class: 'card', 'aria-labelledby': 'settingsTitle', id: 'settings' }, h('h2', { id: 'settingsTitle', text: 'Settings' }), h('p', { class: 'muted', text: 'Empty fields keep their default. The server checks every value.' }), form);
};

const checks = (name, legend) =>
  h('fieldset', { class: 'checks' }, h('legend', { text: legend }), CHANNELS.map((c) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name, value: c }), ` ${c}`)));

const policiesSection = (policies, t, reload) => {
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const name = h('input', { required: true, maxlength: '100', autocomplete: 'off' });
  const purpose = h('input', { autocomplete: 'off', placeholder: 'e.g. payment (empty: any)' });
  const within = h('input', { type: 'number', inputmode: 'numeric', placeholder: '300' });
  const form = h(
    'form',
    { novalidate: true, id: 'policyForm' },
    h('h3', { text: 'Add a policy' }),
    h('div', { class: 'row' }, field('policyName', 'Name', name), field('policyPurpose', 'Purpose', purpose), field('policyWithin', 'Within (seconds)', within)),
    checks('match', 'When one of these verifies (none: any)'),
    checks('require', 'Require these channels'),
    h('button', { type: 'submit', text: 'Save policy' }),
    error,
  );
  const picked = (n) => [...form.querySelectorAll(`input[name="${n}"]:checked`)].map((i) => i.value);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.hidden = true;
    void busy(e.submitter, async () => {
      try {
        await api('POST', `tenants/${t}/policies`, { name: name.value.trim(), match: { purpose: purpose.value.trim(), channels: picked('match') }, requiredChannels: picked('require'), withinSeconds: Number(within.value) || 0 });
        status(`Policy "${name.value.trim()}" saved`);
        await reload();
      } catch (err) {
        showError(error, err);
      }
    });
  });
  const remove = (p) => async (e) => {
    const button = e.currentTarget;
    if (!(await confirmAction('Delete this policy?', `Delete the MFA policy "${p.name}"? Verifications no longer need its channels.`, 'Delete policy'))) return;
    await busy(button, async () => {
      await api('DELETE', `tenants/${t}/policies/${encodeURIComponent(p.name)}`);
      status(`Policy "${p.name}" deleted`);
      await reload();
    });
  };
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'policiesTitle', id: 'policies' },
    h('h2', { id: 'policiesTitle', text: 'MFA policies' }),
    table(
      [
        { label: 'Name', cell: (p) => p.name },
        { label: 'Purpose', cell: (p) => p.match.purpose || 'any' },
        { label: 'After', cell: (p) => p.match.channels.join(', ') || 'any channel' },
        { label: 'Requires', cell: (p) => p.requiredChannels.join(', ') },
        { label: 'Within', cell: (p) => `${p.withinSeconds} s` },
        { label: 'Action', cell: (p) => h('button', { type: 'button', class: 'danger small', onclick: remove(p), 'aria-label': `Delete policy ${p.name}`, text: 'Delete' }) },
      ],
      policies,
      { label: 'MFA policies', empty: 'No policies: every verification stands alone.' },
    ),
    form,
  );
};

const webhookSecretSection = (tenant, t) =>
  h(
    'section',
    { class: 'card', 'aria-labelledby': 'secretTitle2' },
    h('h2', { id: 'secretTitle2', text: 'Webhook secret' }),
    h('p', { class: 'muted', text: tenant.hasWebhookSecret ? 'A secret is set. Rotating it shows the new one once.' : 'No secret yet: rotating creates one and shows it once.' }),
    h('button', {
      type: 'button',
      class: 'ghost',
      id: 'rotateSecret',
      text: 'Rotate webhook secret',
      onclick: async (e) => {
        const button = e.currentTarget;
        if (!(await confirmAction('Rotate the webhook secret?', 'Receivers need the new secret; the previous one also signs for 24 hours so that they can switch over.', 'Rotate secret'))) return;
        await busy(button, async () => {
          const r = await api('POST', `tenants/${t}/webhook-secret`, {});
          showOnce('New webhook secret', [['Webhook secret', r.webhookSecret]]);
        });
      },
    }),
  );
