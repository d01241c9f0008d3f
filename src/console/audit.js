// Audit: search a tenant's trail by user, channel, outcome and time; a user's timeline; the
// results exported as JSON Lines (every page, one record per line).
import { get } from './api.js';
import { busy, clear, field, h, showError, status, table, time } from './dom.js';
import { state, tenantPicker } from './state.js';

const OUTCOMES = ['success', 'failure', 'issued', 'delivered', 'failed', 'locked', 'expired', 'pending', 'denied', 'number_mismatch', 'reported', 'replay', 'suspicious', 'ok'];

/** datetime-local (browser time) → ISO; '' stays ''. */
const iso = (v) => (v ? new Date(v).toISOString() : '');

export const renderAudit = async (root, [, user]) => {
  const userId = h('input', { autocomplete: 'off', spellcheck: 'false', value: user ? decodeURIComponent(user) : '' });
  const channel = h('select', {}, ['', 'sms', 'email', 'totp', 'webauthn', 'push', 'recovery'].map((c) => h('option', { value: c, text: c || 'any' })));
  const outcome = h('input', { list: 'outcomes', autocomplete: 'off', placeholder: 'any' });
  const from = h('input', { type: 'datetime-local' });
  const to = h('input', { type: 'datetime-local' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const results = h('section', { class: 'card', 'aria-labelledby': 'resultsTitle', id: 'auditResults' });
  const filters = () => ({ userId: userId.value.trim(), channel: channel.value, outcome: outcome.value.trim(), from: iso(from.value), to: iso(to.value) });
  const path = () => `tenants/${encodeURIComponent(state.tenantId)}/audit`;

  const search = async () => {
    error.hidden = true;
    try {
      const f = filters();
      const r = await get(path(), { ...f, limit: 200 });
      const timeline = f.userId && !f.channel && !f.outcome;
      clear(results, h('h2', { id: 'resultsTitle', tabindex: '-1', text: timeline ? `Timeline of ${f.userId}` : `Records (${r.records.length}${r.nextPageToken ? '+' : ''})` }), timeline ? drawTimeline(r.records) : drawTable(r.records, showUser));
    } catch (err) {
      showError(error, err);
    }
  };
  const showUser = (id) => {
    userId.value = id;
    channel.value = '';
    outcome.value = '';
    void search().then(() => document.getElementById('resultsTitle')?.focus());
  };
  const exportJsonl = (button) =>
    busy(button, async () => {
      const lines = [];
      let pageToken = '';
      do {
        const r = await get(path(), { ...filters(), limit: 1000, pageToken });
        for (const rec of r.records) lines.push(JSON.stringify(rec));
        pageToken = r.nextPageToken;
      } while (pageToken);
      const url = URL.createObjectURL(new Blob(lines.map((l) => `${l}\n`), { type: 'application/x-ndjson' }));
      const a = h('a', { href: url, download: `audit-${state.tenantId}-${new Date().toISOString().slice(0, 19).replaceAll(':', '')}.jsonl` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      status(`Exported ${lines.length} records as JSON Lines`);
    });

  const form = h(
    'form',
    { class: 'card', novalidate: true, id: 'auditForm', 'aria-label': 'Search the audit trail' },
    h('div', { class: 'row' }, tenantPicker(() => void search()), field('auditUser', 'User id', userId), field('auditChannel', 'Channel', channel), field('auditOutcome', 'Outcome', outcome), field('auditFrom', 'From', from), field('auditTo', 'To', to)),
    h('datalist', { id: 'outcomes' }, OUTCOMES.map((o) => h('option', { value: o }))),
    h('button', { type: 'submit', text: 'Search' }),
    h('button', { type: 'button', class: 'ghost', id: 'auditExport', text: 'Export JSON Lines', onclick: (e) => void exportJsonl(e.currentTarget) }),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void search();
  });
  clear(root, h('h1', { text: 'Audit' }), form, results);
  if (state.tenantId) await search();
};

const drawTable = (records, showUser) =>
  table(
    [
      { label: 'Time', cell: (r) => time(r.at) },
      { label: 'User', cell: (r) => (r.userId ? h('button', { type: 'button', class: 'link', text: r.userId, 'aria-label': `Timeline of ${r.userId}`, onclick: () => showUser(r.userId) }) : '—') },
      { label: 'Action', cell: (r) => r.action },
      { label: 'Channel', cell: (r) => r.channel || '—' },
      { label: 'Outcome', cell: (r) => r.outcome },
      { label: 'By', cell: (r) => r.keyId || r.actor || '—' },
      { label: 'Client IP', cell: (r) => r.clientIp || '—' },
      { label: 'Destination', cell: (r) => r.destination || '—' },
    ],
    records,
    { label: 'Audit records', empty: 'No records match.' },
  );

/** A user's events, newest first, grouped by day. */
const drawTimeline = (records) => {
  if (!records.length) return h('p', { class: 'muted', text: 'No records for this user.' });
  const days = new Map();
  for (const r of [...records].reverse()) {
    const day = time(r.at).slice(0, 10);
    days.set(day, [...(days.get(day) ?? []), r]);
  }
  return h(
    'ol',
    { class: 'timeline', id: 'timeline' },
    [...days].map(([day, rs]) =>
      h('li', {}, h('h3', { text: day }), h('ol', {}, rs.map((r) => h('li', { dataset: { outcome: r.outcome } }, h('time', { datetime: r.at, text: time(r.at).slice(11) }), ' ', h('strong', { text: r.action }), r.channel ? ` · ${r.channel}` : '', ` · ${r.outcome}`, r.destination ? ` · ${r.destination}` : '', r.clientIp ? ` · ${r.clientIp}` : '')))),
    ),
  );
};
