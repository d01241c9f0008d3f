// Insights, per tenant or overall, over a chosen range: sends, verifications and conversion per
// channel over time; SMS sends vs verifications per country (pumping); push approvals, denials,
// "not me" and number-matching failures (fatigue); TOTP and passkey failures and throttling; and
// this node's latency percentiles and projection lag from its own metrics. The numbers come from
// the admin API (GetInsights, GetServerMetrics), the same a script would read.
import { get } from './api.js';
import { chart } from './charts.js';
import { clear, h, percent, showError, table } from './dom.js';
import { state, tenantPicker } from './state.js';

const RANGES = { '24h': 24, '7d': 7 * 24, '30d': 30 * 24, '90d': 90 * 24 };
const CHANNELS = ['sms', 'email', 'totp', 'webauthn', 'push', 'recovery'];
let range = '24h';
let overall = false;

const pad = (n) => String(n).padStart(2, '0');
/** A bucket's label: hours for hourly steps, dates for daily ones (the browser's time zone). */
const label = (iso, stepSeconds) => {
  const d = new Date(iso);
  const day = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return stepSeconds >= 86_400 ? day : `${day} ${pad(d.getHours())}:00`;
};

const seriesOf = (data, channel, metric) => data.series.find((s) => s.channel === channel && s.metric === metric)?.counts ?? data.buckets.map(() => 0);

export const renderInsights = async (root) => {
  const body = h('div', { id: 'insightsBody' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const rangeSelect = h('select', { id: 'insightsRange', onchange: () => ((range = rangeSelect.value), void draw()) }, Object.keys(RANGES).map((r) => h('option', { value: r, text: `last ${r}` })));
  rangeSelect.value = range;
  let drawing = 0;
  const draw = async () => {
    error.hidden = true;
    const mine = ++drawing;
    const to = Date.now();
    const from = to - RANGES[range] * 3_600_000;
    const tenantId = overall ? '' : state.tenantId;
    try {
      const [data, metrics] = await Promise.all([get('insights', { tenantId, from: new Date(from).toISOString(), to: new Date(to).toISOString() }), get('server-metrics')]);
      // A slower answer to an earlier choice never replaces a later one.
      if (mine !== drawing) return;
      clear(body, drawInsights(data), drawServer(metrics));
      // What is shown (range and tenant; '' for all): tests and scripts wait for it.
      body.dataset.shown = `${range} ${tenantId}`.trim();
    } catch (err) {
      showError(error, err);
    }
  };
  const picker = tenantPicker((v) => ((overall = v === ''), void draw()), { all: true, allSelected: overall, id: 'insightsTenant' });
  clear(
    root,
    h('h1', { text: 'Insights' }),
    h('div', { class: 'row' }, picker, h('div', { class: 'field inline' }, h('label', { for: 'insightsRange', text: 'Range' }), rangeSelect), h('button', { type: 'button', class: 'ghost', text: 'Refresh', onclick: () => void draw() })),
    error,
    body,
  );
  await draw();
};

const drawInsights = (data) => {
  const labels = data.buckets.map((b) => label(b, data.stepSeconds));
  const present = CHANNELS.filter((c) => data.series.some((s) => s.channel === c));
  const channels = present.length ? present : ['sms'];
  const conv = (c) => data.channels.find((x) => x.channel === c);
  const totals = table(
    [
      { label: 'Channel', cell: (c) => c.channel },
      { label: 'Started', cell: (c) => String(c.started) },
      { label: 'Verified', cell: (c) => String(c.verified) },
      { label: 'Conversion', cell: (c) => (c.started ? percent(c.conversion) : '—') },
    ],
    data.channels,
    { label: 'Totals per channel', empty: 'Nothing happened in this range.' },
  );
  const countries = data.smsCountries;
  const pumping = countries.filter((c) => c.sent >= 5 && c.conversion < 0.2);
  return h(
    'div',
    { class: 'charts' },
    h('section', { class: 'card wide', 'aria-labelledby': 'totalsTitle' }, h('h2', { id: 'totalsTitle', text: `Totals (${labels.length} buckets of ${data.stepSeconds / 3600} h)` }), totals),
    chart({ id: 'chartStarted', title: 'Verifications started (codes and pushes sent, TOTP codes checked, passkey challenges)', labels, datasets: channels.map((c) => ({ label: c, data: seriesOf(data, c, 'started') })) }),
    chart({ id: 'chartVerified', title: 'Verifications succeeded', labels, datasets: channels.map((c) => ({ label: c, data: seriesOf(data, c, 'verified') })) }),
    chart({ id: 'chartConversion', title: 'Conversion (verified / started)', labels, percent: true, datasets: channels.map((c) => ({ label: c, data: conv(c)?.conversionPerBucket ?? labels.map(() => 0) })) }),
    chart({
      id: 'chartCountries',
      title: 'SMS per country: sent vs verified',
      summary: countries.map((c) => `${c.country || 'unknown'}: ${c.sent} sent, ${c.verified} verified`).join('; ') || 'no SMS in this range',
      type: 'bar',
      xLabel: 'Country',
      labels: countries.map((c) => c.country || '?'),
      datasets: [
        { label: 'sent', data: countries.map((c) => c.sent) },
        { label: 'verified', data: countries.map((c) => c.verified), colour: 1 },
      ],
    }),
    pumping.length
      ? h('p', { class: 'callout', role: 'note', id: 'pumpingSignal', text: `Possible SMS pumping: ${pumping.map((c) => `${c.country} (${c.sent} sent, ${percent(c.conversion)} verified)`).join(', ')}. Consider smsAllowedCountries or lower caps.` })
      : null,
    chart({
      id: 'chartPush',
      title: 'Push: approvals, denials, "not me" and number-matching failures',
      type: 'bar',
      stacked: true,
      labels,
      datasets: [
        { label: 'approved', data: seriesOf(data, 'push', 'verified'), colour: 1 },
        { label: 'denied', data: seriesOf(data, 'push', 'denied'), colour: 2 },
        { label: '"not me"', data: seriesOf(data, 'push', 'not_me'), colour: 3 },
        { label: 'number mismatch', data: seriesOf(data, 'push', 'number_mismatch'), colour: 4 },
      ],
    }),
    chart({
      id: 'chartFailures',
      title: 'TOTP and passkey failures, throttling',
      type: 'bar',
      stacked: true,
      labels,
      datasets: [
        { label: 'TOTP wrong code', data: seriesOf(data, 'totp', 'failed'), colour: 2 },
        { label: 'TOTP replayed code', data: seriesOf(data, 'totp', 'replay'), colour: 5 },
        { label: 'TOTP throttled', data: seriesOf(data, 'totp', 'throttled'), colour: 3 },
        { label: 'passkey failed', data: seriesOf(data, 'webauthn', 'failed'), colour: 4 },
        { label: 'passkey clone suspected', data: seriesOf(data, 'webauthn', 'clone_suspected'), colour: 0 },
      ],
    }),
  );
};

const drawServer = (m) => {
  const labels = m.samples.map((s) => {
    const d = new Date(s.at);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  });
  const models = [...new Set(m.samples.flatMap((s) => s.lag.map((l) => l.readModel)))];
  return h(
    'div',
    { class: 'charts' },
    h('h2', { class: 'wide', text: "This node's own metrics (the last hour)" }),
    chart({
      id: 'chartLatency',
      title: 'Request latency percentiles (ms)',
      labels,
      yTitle: 'ms',
      datasets: [
        { label: 'p50', data: m.samples.map((s) => Math.round(s.p50Ms * 10) / 10) },
        { label: 'p90', data: m.samples.map((s) => Math.round(s.p90Ms * 10) / 10), colour: 1 },
        { label: 'p99', data: m.samples.map((s) => Math.round(s.p99Ms * 10) / 10), colour: 2 },
      ],
    }),
    chart({ id: 'chartLag', title: `Projection lag (${m.lagUnit})`, labels, datasets: models.map((name) => ({ label: name, data: m.samples.map((s) => s.lag.find((l) => l.readModel === name)?.lag ?? 0) })) }),
    h(
      'section',
      { class: 'card wide', 'aria-labelledby': 'latencyTitle' },
      h('h2', { id: 'latencyTitle', text: 'Latency per method since this node started' }),
      table(
        [
          { label: 'Method', cell: (l) => (l.method === '*' ? 'every call' : l.method) },
          { label: 'Calls', cell: (l) => String(l.count) },
          { label: 'p50', cell: (l) => `${l.p50Ms.toFixed(1)} ms` },
          { label: 'p90', cell: (l) => `${l.p90Ms.toFixed(1)} ms` },
          { label: 'p99', cell: (l) => `${l.p99Ms.toFixed(1)} ms` },
        ],
        m.latency,
        { label: 'Latency per method' },
      ),
    ),
  );
};
