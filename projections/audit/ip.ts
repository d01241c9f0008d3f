// Client IPs in the audit trail are truncated: IPv4 to its /24 (203.0.113.77 → 203.0.113.0),
// IPv6 to its /48 (2001:db8:1234:5678::1 → 2001:db8:1234::). IPv4-mapped IPv6 counts as IPv4.
import { isIPv4, isIPv6 } from 'node:net';

const v4 = (ip: string) => ip.split('.').slice(0, 3).concat('0').join('.');

/** The 8 hextets of an IPv6 address (an embedded IPv4 tail becomes two hextets). */
const hextets = (ip: string): number[] => {
  let s = ip.split('%')[0];
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail) {
    const [a, b, c, d] = tail[1].split('.').map(Number);
    s = s.slice(0, -tail[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = s.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const zeros = rest !== undefined ? new Array(8 - h.length - r.length).fill('0') : [];
  return [...h, ...zeros, ...r].map((x) => parseInt(x, 16));
};

export const truncateIp = (ip: unknown): string | null => {
  if (typeof ip !== 'string' || ip === '') return null;
  if (isIPv4(ip)) return v4(ip);
  if (!isIPv6(ip)) return null; // not an address: keep nothing rather than something unknown
  const x = hextets(ip);
  if (x.slice(0, 5).every((n) => n === 0) && x[5] === 0xffff) return v4(`${x[6] >> 8}.${x[6] & 255}.${x[7] >> 8}.${x[7] & 255}`);
  return `${x.slice(0, 3).map((n) => n.toString(16)).join(':')}::`;
};
