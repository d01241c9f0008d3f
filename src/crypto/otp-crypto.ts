// The HMACs of TOTP verification (otplib) on node:crypto, synchronous: otplib's default
// (@noble/hashes, in JavaScript, behind promises) took three times as long per verification.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CryptoPlugin } from 'otplib';

const bytes = (v: string | Uint8Array) => (typeof v === 'string' ? Buffer.from(v) : v);

/** The key goes in as a KeyObject: node 24 checks a raw key by throwing and catching an error
 * inside, which costs more than the HMAC itself. */
export const otpCrypto: CryptoPlugin = {
  name: 'node',
  hmac: (algorithm, key, data) => createHmac(algorithm, createSecretKey(key)).update(data).digest(),
  randomBytes: (n) => randomBytes(n),
  constantTimeEqual: (a, b) => {
    const [x, y] = [bytes(a), bytes(b)];
    return x.length === y.length && timingSafeEqual(x, y); // a length is public (the digits)
  },
};
