// The demo page (/demo/): every channel (TOTP, passkeys, SMS/email codes, push, recovery codes).
// Static files only, from a fixed list (no path is ever joined from the URL), with a strict CSP:
// the page's script is its own file and may talk to this origin only, so the API key goes nowhere
// but our API.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DomainError } from '../domain/errors.ts';
import type { ExtraRoute } from './app.ts';
import { sendError } from './rest.ts';

const DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'demo');
/** The UMD bundle (global SimpleWebAuthnBrowser); the package's CommonJS entry fails in a browser. */
const webauthnBundle = () => join(dirname(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser'))), 'dist', 'bundle', 'index.umd.min.js');

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** URL path → [file, content type]. Nothing else under /demo/ is served. */
const FILES: Record<string, [() => string, string]> = {
  '/demo/': [() => join(DEMO_DIR, 'index.html'), HTML],
  '/demo/index.html': [() => join(DEMO_DIR, 'index.html'), HTML],
  '/demo/demo.js': [() => join(DEMO_DIR, 'demo.js'), JS],
  '/demo/demo.css': [() => join(DEMO_DIR, 'demo.css'), CSS],
  '/demo/vendor/simplewebauthn-browser.umd.min.js': [webauthnBundle, JS],
};

export const DEMO_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': DEMO_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-cache',
};

export const createDemoRoute = (opts: { enabled: boolean }): ExtraRoute => {
  const cache = new Map<string, Buffer>();
  const load = (path: string): Buffer => {
    let body = cache.get(path);
    if (!body) cache.set(path, (body = readFileSync(FILES[path]![0]())));
    return body;
  };
  return (req, res) => {
    if (!opts.enabled) return false;
    const path = (req.url ?? '/').split(/[?#]/)[0]!;
    if (path !== '/demo' && !path.startsWith('/demo/')) return false;
    const r = res as import('node:http').ServerResponse;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, new DomainError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}`), { allow: 'GET, HEAD' });
      return true;
    }
    if (path === '/demo') {
      r.writeHead(308, { location: '/demo/', 'cache-control': 'no-cache' });
      r.end();
      return true;
    }
    if (!Object.hasOwn(FILES, path)) {
      sendError(res, new DomainError('ROUTE_NOT_FOUND', `no route ${path}`));
      return true;
    }
    let body: Buffer;
    try {
      body = load(path);
    } catch {
      sendError(res, new DomainError('ROUTE_NOT_FOUND', `no route ${path}`));
      return true;
    }
    r.writeHead(200, { 'content-type': FILES[path]![1], 'content-length': String(body.length), ...SECURITY_HEADERS });
    r.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
};
