// Client addresses as limits see them: an IPv4 address whole, an IPv6 address by its /64 (one host
// usually holds a whole /64 and could otherwise rotate through it freely).
import { isIP } from 'node:net';

/** "2001:db8:1:2::77" → "2001:db8:1:2::/64"; IPv4 and anything else unchanged. */
export const clientNetOf = (ip: string): string => {
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail] = ip.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const full = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${full.slice(0, 4).map((x) => parseInt(x, 16).toString(16)).join(':')}::/64`;
};
