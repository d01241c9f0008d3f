// Webhooks: a tenant's endpoint health, and its deliveries (status, attempts, the next retry)
// with each attempt's response, and redelivery.
import { api, get } from './api.js';
import { busy, clear, h, rememberFocus, status, table, time } from './dom.js';
import { state, tenantPicker } from './state.js';

export const renderWebhooks = async (root) => {
  const health = h('section', { class: 'card', 'aria-labelledby': 'healthTitle', id: 'endpointHealth' });
  const list = h('section', { class: 'card', 'aria-labelledby': 'deliveriesTitle', id: 'deliveries' });
  const statusFilter = h('select', { id: 'deliveryStatus' }, ['', 'pending', 'delivered', 'dead'].map((s) => h('option', { value: s, text: s || 'any status' })));
  const refresh = () => void draw().catch((err) => status(`${err.message} (${err.code})`, 'error'));
  statusFilter.addEventListener('change', refresh);
  const draw = async () => {
    if (!state.tenantId) return clear(list, h('p', { text: 'No tenants yet.' }));
    const t = encodeURIComponent(state.tenantId);
    const [endpoint, page] = await Promise.all([api('GET', `tenants/${t}/webhook-endpoint`), get(`tenants/${t}/webhook-deliveries`, { status: statusFilter.value, limit: 50 })]);
    drawHealth(health, endpoint);
    const rows = [...page.deliveries];
    const more = h('button', { type: 'button', class: 'ghost', text: 'Load more', hidden: !page.nextPageToken });
    let token = page.nextPageToken;
    more.addEventListener('click', () =>
      void busy(more, async () => {
        const next = await get(`tenants/${t}/webhook-deliveries`, { status: statusFilter.value, limit: 50, pageToken: token });
        rows.push(...next.deliveries);
        token = next.nextPageToken;
        drawRows();
      }),
    );
    // Redrawn (a filter, a refresh after a redelivery), the focus stays on the control it was on.
    const drawRows = () => {
      const restore = rememberFocus();
      clear(
        list,
        h('h2', { id: 'deliveriesTitle', text: 'Deliveries' }),
        h('div', { class: 'row end' }, h('div', { class: 'field inline' }, h('label', { for: 'deliveryStatus', text: 'Status' }), statusFilter), h('button', { type: 'button', class: 'ghost', id: 'deliveriesRefresh', text: 'Refresh', onclick: refresh })),
        table(
          [
            { label: 'Event', cell: (d) => d.event },
            { label: 'Channel', cell: (d) => d.channel },
            { label: 'Status', cell: (d) => h('span', { class: `badge ${d.status === 'delivered' ? 'good' : d.status === 'dead' ? 'bad' : 'warn'}`, text: d.status }) },
            { label: 'Attempts', cell: (d) => String(d.attempts) },
            { label: 'Last response', cell: (d) => (d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : d.lastError || '—') },
            { label: 'Next retry', cell: (d) => (d.status === 'pending' ? time(d.nextAttemptAt) : '—') },
            { label: 'Created', cell: (d) => time(d.createdAt) },
            {
              label: 'Actions',
              cell: (d) =>
                h(
                  'span',
                  { class: 'actions' },
                  h('button', { type: 'button', class: 'ghost small', 'aria-expanded': 'false', 'aria-label': `Attempts of ${d.deliveryId}`, text: 'Attempts', onclick: (e) => void toggleAttempts(e.currentTarget, t, d) }),
                  h('button', {
                    type: 'button',
                    class: 'small',
                    'aria-label': `Redeliver ${d.deliveryId}`,
                    text: 'Redeliver',
                    onclick: (e) =>
                      void busy(e.currentTarget, async () => {
                        await api('POST', `tenants/${t}/webhook-deliveries/${encodeURIComponent(d.deliveryId)}/redeliver`, {});
                        status(`Delivery ${d.deliveryId} queued again`);
                        setTimeout(refresh, 500);
                      }),
                  }),
                ),
            },
          ],
          rows,
          { label: 'Webhook deliveries', empty: 'No deliveries (the tenant needs a webhook URL).', rowProps: (d) => ({ dataset: { deliveryId: d.deliveryId, status: d.status } }) },
        ),
        more,
      );
      restore();
    };
    drawRows();
  };
  clear(root, h('h1', { text: 'Webhooks' }), h('div', { class: 'row' }, tenantPicker(refresh)), health, list);
  await draw();
};

const drawHealth = (el, e) => {
  const rate = e.attempts24h ? `${Math.round(((e.attempts24h - e.failures24h) / e.attempts24h) * 100)} % answered 2xx` : 'no attempts';
  const facts = [
    ['Endpoint', e.url || 'none (set the webhookUrl setting)'],
    ['Secret', e.hasSecret ? 'set' : 'none'],
    ['Deliveries', `${e.delivered} delivered · ${e.pending} pending · ${e.dead} dead`],
    ['Last 24 h', `${e.attempts24h} attempts, ${e.failures24h} failed (${rate})`],
    ['Failing since last success', String(e.consecutiveFailures)],
    ['Last success', time(e.lastSuccessAt) || 'never'],
    ['Last failure', e.lastFailureAt ? `${time(e.lastFailureAt)}: ${e.lastFailureStatusCode ? `HTTP ${e.lastFailureStatusCode}` : e.lastFailureError}` : 'none'],
    ['Median duration', `${e.medianDurationMs} ms`],
  ];
  const healthy = e.url && e.consecutiveFailures === 0 && e.dead === 0;
  clear(
    el,
    h('h2', { id: 'healthTitle' }, 'Endpoint health ', h('span', { class: `badge ${!e.url ? 'warn' : healthy ? 'good' : 'bad'}`, text: !e.url ? 'no endpoint' : healthy ? 'healthy' : 'failing' })),
    h('dl', { class: 'facts' }, facts.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])),
  );
};

const toggleAttempts = async (button, t, d) => {
  const row = button.closest('tr');
  const open = row.nextElementSibling?.classList.contains('detail');
  if (open) {
    row.nextElementSibling.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  await busy(button, async () => {
    const detail = await api('GET', `tenants/${t}/webhook-deliveries/${encodeURIComponent(d.deliveryId)}`);
    const cell = h(
      'td',
      { colspan: String(row.children.length) },
      table(
        [
          { label: '#', cell: (a) => String(a.attempt) },
          { label: 'At', cell: (a) => time(a.at) },
          { label: 'Response', cell: (a) => (a.statusCode ? `HTTP ${a.statusCode}` : 'no response') },
          { label: 'Error', cell: (a) => a.error || '—' },
          { label: 'Duration', cell: (a) => `${a.durationMs} ms` },
        ],
        detail.attempts,
        { label: `Attempts of ${d.deliveryId}`, empty: 'Not attempted yet.' },
      ),
      h('details', {}, h('summary', { text: 'Payload' }), h('pre', { text: detail.payload })),
    );
    row.after(h('tr', { class: 'detail' }, cell));
    button.setAttribute('aria-expanded', 'true');
  });
};
