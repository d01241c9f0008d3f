// The operator console (/console/): static files (static.ts) that call the admin API with the
// admin token the operator types in (kept in memory or sessionStorage, never in a URL). Chart.js
// is served from node_modules (its UMD bundle: the global Chart).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExtraRoute } from './app.ts';
import { createStaticRoute, CSS, HTML, JS, type StaticFiles } from './static.ts';

const CONSOLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'console');
const chartBundle = () => join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

/** The console's own files (one folder, no subfolders): name → content type. */
export const CONSOLE_FILES: Record<string, string> = {
  'index.html': HTML,
  'console.css': CSS,
  'app.js': JS,
  'api.js': JS,
  'dom.js': JS,
  'state.js': JS,
  'charts.js': JS,
  'tenants.js': JS,
  'webhooks.js': JS,
  'audit.js': JS,
  'insights.js': JS,
  'system.js': JS,
};

const FILES: StaticFiles = {
  '/console/': [() => join(CONSOLE_DIR, 'index.html'), HTML],
  ...Object.fromEntries(Object.entries(CONSOLE_FILES).map(([name, type]) => [`/console/${name}`, [() => join(CONSOLE_DIR, name), type]])),
  '/console/vendor/chart.umd.min.js': [chartBundle, JS],
};

export const createConsoleRoute = (opts: { enabled: boolean }): ExtraRoute => createStaticRoute({ prefix: '/console', files: FILES, enabled: opts.enabled });
