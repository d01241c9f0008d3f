// Charts with Chart.js (its UMD bundle, the global Chart, served from node_modules), coloured
// from the page's CSS variables so that they follow the light or dark theme. Each chart has a
// data table beside it (details), for screen readers and for reading exact numbers.
import { h, table } from './dom.js';

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const PALETTE = ['--c1', '--c2', '--c3', '--c4', '--c5', '--c6'];
export const colour = (i) => css(PALETTE[i % PALETTE.length]);

const live = new Set();
/** Charts drawn on a page that is gone are destroyed on the next draw. */
const sweep = () => {
  for (const c of live) if (!c.canvas.isConnected) (c.destroy(), live.delete(c));
};
window.addEventListener('themechange', () => {
  sweep();
  for (const c of live) {
    theme(c.options);
    c.update('none');
  }
});

const theme = (options) => {
  const text = css('--muted');
  const grid = css('--grid');
  for (const axis of Object.values(options.scales ?? {})) {
    axis.ticks = { ...axis.ticks, color: text };
    axis.grid = { ...axis.grid, color: grid };
    if (axis.title) axis.title.color = text;
  }
  options.plugins = { ...options.plugins, legend: { ...options.plugins?.legend, labels: { color: css('--fg') } } };
  return options;
};

/**
 * A chart in a figure: { id, title, type: 'line'|'bar', labels, datasets: [{ label, data }],
 * yTitle, percent, stacked }. Returns the figure; the chart is drawn once it is in the page.
 */
export const chart = (spec) => {
  sweep();
  const canvas = h('canvas', { role: 'img', 'aria-label': `${spec.title}: ${spec.summary ?? 'chart; the numbers are in the table below'}` });
  const figure = h(
    'figure',
    { class: 'chart', id: spec.id, dataset: { points: String(spec.datasets.reduce((n, d) => n + d.data.filter((v) => v > 0).length, 0)) } },
    h('figcaption', { text: spec.title }),
    h('div', { class: 'chart-box' }, canvas),
    h(
      'details',
      {},
      h('summary', { text: 'Data' }),
      table([{ label: spec.xLabel ?? 'Time', cell: (r) => r.label }, ...spec.datasets.map((d, i) => ({ label: d.label, cell: (r) => r.values[i] }))], spec.labels.map((label, j) => ({ label, values: spec.datasets.map((d) => (spec.percent ? `${(d.data[j] * 100).toFixed(1)} %` : String(d.data[j]))) })), {
        label: `${spec.title} data`,
      }),
    ),
  );
  const Chart = window.Chart;
  if (!Chart) return figure;
  const datasets = spec.datasets.map((d, i) => ({
    label: d.label,
    data: d.data,
    borderColor: colour(d.colour ?? i),
    backgroundColor: colour(d.colour ?? i),
    borderWidth: 2,
    pointRadius: spec.labels.length > 60 ? 0 : 2,
    tension: 0.2,
  }));
  const options = theme({
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'index', intersect: false },
    scales: {
      x: { stacked: !!spec.stacked, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
      y: {
        stacked: !!spec.stacked,
        beginAtZero: true,
        title: spec.yTitle ? { display: true, text: spec.yTitle } : undefined,
        ticks: spec.percent ? { callback: (v) => `${Math.round(v * 100)} %` } : { precision: 0 },
        ...(spec.percent ? { max: 1 } : {}),
      },
    },
    plugins: { tooltip: spec.percent ? { callbacks: { label: (c) => `${c.dataset.label}: ${(c.parsed.y * 100).toFixed(1)} %` } } : {} },
  });
  // Drawn when attached (Chart.js measures its box).
  const draw = (tries = 0) => {
    if (!canvas.isConnected) return void (tries < 20 && requestAnimationFrame(() => draw(tries + 1)));
    const c = new Chart(canvas, { type: spec.type ?? 'line', data: { labels: spec.labels, datasets }, options });
    live.add(c);
    figure.dataset.drawn = 'true';
  };
  queueMicrotask(draw);
  return figure;
};
