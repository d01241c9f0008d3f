// Static pages served by the server itself (the demo at /demo/, the console at /console/): files
// from a fixed list (no path is ever joined from the URL), GET and HEAD only, with a strict CSP
// (scripts, styles and connections to this origin only: no inline code, no third party).
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { DomainError } from '../domain/errors.ts';
import type { ExtraRoute } from './app.ts';
import { sendError } from './rest.ts';

export const HTML = 'text/html; charset=utf-8';
export const JS = 'text/javascript; charset=utf-8';
export const CSS = 'text/css; charset=utf-8';

/** URL path → [file path (resolved on first use), content type]. */
export type StaticFiles = Record<string, [() => string, string]>;

export const PAGE_CSP = [
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
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-cache',
};

/** Serves `files` under `prefix` ("/demo": "/demo" redirects to "/demo/"); anything else under
 * it is a 404 envelope, other methods 405. Off (falls through) unless enabled. */
export const createStaticRoute = (o: { prefix: string; files: StaticFiles; enabled: boolean }): ExtraRoute => {
  const cache = new Map<string, Buffer>();
  const load = (path: string): Buffer => {
    let body = cache.get(path);
    if (!body) cache.set(path, (body = readFileSync(o.files[path]![0]())));
    return body;
  };
  return (req, res) => {
    if (!o.enabled) return false;
    const path = (req.url ?? '/').split(/[?#]/)[0]!;
    if (path !== o.prefix && !path.startsWith(`${o.prefix}/`)) return false;
    const r = res as ServerResponse;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, new DomainError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}`), { allow: 'GET, HEAD' });
      return true;
    }
    if (path === o.prefix) {
      r.writeHead(308, { location: `${o.prefix}/`, 'cache-control': 'no-cache' });
      r.end();
      return true;
    }
    let body: Buffer | undefined;
    try {
      body = Object.hasOwn(o.files, path) ? load(path) : undefined;
    } catch {
      body = undefined;
    }
    if (!body) {
      sendError(res, new DomainError('ROUTE_NOT_FOUND', `no route ${path}`));
      return true;
    }
    r.writeHead(200, { 'content-type': o.files[path]![1], 'content-length': String(body.length), ...SECURITY_HEADERS });
    r.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
};
