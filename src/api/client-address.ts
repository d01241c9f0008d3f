// The client address of a request: the socket's, or behind trusted proxies, the one the nearest
// trusted proxy recorded. Each proxy appends the address it received the request from, so with N
// trusted proxies in front of us the client is the N-th entry from the right; everything left of it
// was written by the client and proves nothing. Only a valid IP address counts: anything else
// (garbage, "unknown", an obfuscated identifier) is ignored and the socket address used.
import { isIP } from 'node:net';
import type { TrustProxy } from '../config.ts';

export const NO_PROXY: TrustProxy = Object.freeze({ hops: 0, header: 'x-forwarded-for' });

type HeaderValue = string | string[] | undefined;

const joined = (v: HeaderValue): string => (Array.isArray(v) ? v.join(',') : (v ?? ''));

/** "::ffff:203.0.113.7" → "203.0.113.7": one spelling per IPv4 client. */
const canonical = (ip: string) => ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();

/** The `for=` node of one Forwarded element: "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]:4711". */
const forwardedFor = (element: string): string => {
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    let v = pair.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(v);
    if (bracketed) return bracketed[1]!;
    const v4port = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(v);
    return v4port ? v4port[1]! : v;
  }
  return '';
};

/** The entries of the configured header, left to right. */
const hopsOf = (headers: Record<string, HeaderValue>, header: TrustProxy['header']): string[] => {
  const raw = joined(headers[header]);
  if (!raw.trim()) return [];
  const parts = raw.split(',').map((p) => p.trim());
  return header === 'forwarded' ? parts.map(forwardedFor) : parts;
};

/** The address limits, logs, events and the audit trail see for this request. */
export const clientAddressOf = (peer: string | undefined, headers: Record<string, HeaderValue>, trust: TrustProxy): string => {
  const socket = peer && isIP(peer) ? canonical(peer) : 'unknown';
  if (trust.hops <= 0) return socket;
  const entries = hopsOf(headers, trust.header);
  const candidate = entries[entries.length - trust.hops];
  return candidate !== undefined && isIP(candidate) ? canonical(candidate) : socket;
};
