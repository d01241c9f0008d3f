// Where webhooks may go (SSRF). A tenant chooses the URL, so without rules a webhook is a way to
// make this server call its own network: cloud metadata (169.254.169.254), loopback services,
// private ranges; and the delivery log would tell which ports answer. Rules:
// - the URL is checked when it is set (literal addresses, and what its host resolves to now), and
// - at delivery the host is resolved again and refused when ANY address it resolves to is
//   loopback, link-local, private, unique-local, multicast, unspecified or otherwise special
//   (IPv4, IPv6, IPv4-mapped/NAT64 forms; numeric spellings like 0x7f000001 are normalised by the
//   URL parser first), and the connection is made to the address that was checked (no second
//   lookup an attacker's DNS could answer differently); redirects are never followed.
// An operator may allow private targets (SECUREKEY_WEBHOOK_ALLOW_PRIVATE, for on-prem receivers
// and tests); loopback and the rest stay allowed then too, as they are "private".
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

export type EgressPolicy = {
  /** Allow targets in private, loopback, link-local and other non-public ranges. */
  allowPrivate: boolean;
};

/** Ranges a webhook may not reach, by the reason given when one is hit. */
const RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'an unspecified ("this network") address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a shared (carrier-grade NAT) address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address (cloud metadata lives there)'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.0.0.0', 24, 'ipv4', 'a protocol-assignment address'],
  ['192.0.2.0', 24, 'ipv4', 'a documentation address'],
  ['192.88.99.0', 24, 'ipv4', 'a relay (6to4 anycast) address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['198.18.0.0', 15, 'ipv4', 'a benchmarking address'],
  ['198.51.100.0', 24, 'ipv4', 'a documentation address'],
  ['203.0.113.0', 24, 'ipv4', 'a documentation address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved or broadcast address'],
  ['::', 128, 'ipv6', 'an unspecified address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  ['::', 96, 'ipv6', 'an IPv4-compatible address'],
  ['100::', 64, 'ipv6', 'a discard address'],
  ['2001::', 32, 'ipv6', 'a Teredo address'],
  ['2001:db8::', 32, 'ipv6', 'a documentation address'],
  ['2002::', 16, 'ipv6', 'a 6to4 address'],
  ['fc00::', 7, 'ipv6', 'a unique-local (private) address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['fec0::', 10, 'ipv6', 'a site-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];

const lists = RANGES.map(([net, prefix, type, reason]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return { list, reason };
});

/** The IPv4 address inside an IPv6 one that carries it (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96). */
const embeddedV4 = (ip: string): string | undefined => {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ip);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
};

/** Why `ip` may not be a webhook target (e.g. "a loopback address"), or null when it is public. */
export const forbiddenAddress = (ip: string): string | null => {
  const family = isIP(ip);
  if (family === 0) return 'not an IP address';
  const v4 = family === 6 ? embeddedV4(ip.toLowerCase()) : ip;
  const [address, type] = v4 ? [v4, 'ipv4' as const] : [ip, 'ipv6' as const];
  for (const { list, reason } of lists) if (list.check(address, type)) return reason;
  return null;
};

/** The URL's host as an address when it is one ("[::1]" → "::1"), else undefined. */
const literalAddress = (hostname: string): string | undefined => {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(h) ? h : undefined;
};

/** What is wrong with `url` as a webhook target without resolving it (scheme, credentials, a
 * literal or localhost address), or null. The URL parser has already turned numeric spellings such
 * as http://0x7f000001/ or http://2130706433/ into 127.0.0.1. */
export const webhookUrlProblem = (url: string, policy: EgressPolicy): string | null => {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not an absolute URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'only http and https URLs are allowed';
  if (u.username || u.password) return 'credentials in the URL are not allowed (the signature authenticates deliveries)';
  if (policy.allowPrivate) return null;
  const literal = literalAddress(u.hostname);
  if (literal) {
    const why = forbiddenAddress(literal);
    return why && `the host is ${why}`;
  }
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'the host is a loopback address';
  return null;
};

export type Resolved = { ok: true; addresses: LookupAddress[] } | { ok: false; refused: boolean; reason: string };

export type Lookup = (hostname: string, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;
const systemLookup: Lookup = (hostname, cb) => dnsLookup(hostname, { all: true, verbatim: true }, cb);

/** Every address `hostname` resolves to, refused when any of them is forbidden by `policy`. */
export const resolveTarget = (hostname: string, policy: EgressPolicy, lookup: Lookup = systemLookup): Promise<Resolved> =>
  new Promise((resolve) => {
    const literal = literalAddress(hostname);
    const check = (addresses: LookupAddress[]): Resolved => {
      if (addresses.length === 0) return { ok: false, refused: false, reason: 'the host has no address' };
      if (!policy.allowPrivate) {
        for (const a of addresses) {
          const why = forbiddenAddress(a.address);
          if (why) return { ok: false, refused: true, reason: `the host ${literal ? 'is' : 'resolves to'} ${why}` };
        }
      }
      return { ok: true, addresses };
    };
    if (literal) return resolve(check([{ address: literal, family: isIP(literal) }]));
    lookup(hostname, (err, addresses) => resolve(err ? { ok: false, refused: false, reason: `the host cannot be resolved (${err.code ?? 'error'})` } : check(addresses)));
  });

/** Set-time check of a webhook URL: the literal rules, then what the host resolves to now (a name
 * that does not resolve yet is accepted: delivery checks again). Resolves to a problem or null. */
export const checkWebhookUrl = async (url: string, policy: EgressPolicy, o: { lookup?: Lookup; timeoutMs?: number } = {}): Promise<string | null> => {
  const problem = webhookUrlProblem(url, policy);
  if (problem || policy.allowPrivate) return problem;
  const timeout = new Promise<null>((r) => setTimeout(() => r(null), o.timeoutMs ?? 2000).unref());
  const resolved = await Promise.race([resolveTarget(new URL(url).hostname, policy, o.lookup), timeout]);
  return resolved && !resolved.ok && resolved.refused ? resolved.reason : null;
};
