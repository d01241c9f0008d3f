// The demo page (/demo/): every channel (TOTP, passkeys, SMS/email codes, push, recovery codes).
// Static files only (static.ts): the page's script is its own file and may talk to this origin
// only, so the API key goes nowhere but our API.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExtraRoute } from './app.ts';
import { createStaticRoute, CSS, HTML, JS, type StaticFiles } from './static.ts';

const DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'demo');
/** The UMD bundle (global SimpleWebAuthnBrowser); the package's CommonJS entry fails in a browser. */
const webauthnBundle = () => join(dirname(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser'))), 'dist', 'bundle', 'index.umd.min.js');

/** URL path → [file, content type]. Nothing else under /demo/ is served. */
const FILES: StaticFiles = {
  '/demo/': [() => join(DEMO_DIR, 'index.html'), HTML],
  '/demo/index.html': [() => join(DEMO_DIR, 'index.html'), HTML],
  '/demo/demo.js': [() => join(DEMO_DIR, 'demo.js'), JS],
  '/demo/demo.css': [() => join(DEMO_DIR, 'demo.css'), CSS],
  '/demo/vendor/simplewebauthn-browser.umd.min.js': [webauthnBundle, JS],
};

export const createDemoRoute = (opts: { enabled: boolean }): ExtraRoute => createStaticRoute({ prefix: '/demo', files: FILES, enabled: opts.enabled });
