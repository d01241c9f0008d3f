// Server-side keys. One master key (SECUREKEY_MASTER_KEY, or a file created once in the data
// directory) derives a subkey per purpose with HKDF, so that the stream-name hash key, the OTP
// code HMAC key and the field encryption key are independent.
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { randomChunk } from './random.ts';

export type Keyring = {
  /** Keyed hash (hex), e.g. of a normalised phone number for a stream name, or of an OTP code. */
  hmac: (purpose: string, data: string) => string;
  /** AES-256-GCM; the output is self-describing ("v1.<iv>.<ciphertext>.<tag>", base64url). */
  encrypt: (purpose: string, plaintext: string) => string;
  decrypt: (purpose: string, sealed: string) => string;
};

export const createKeyring = (masterKey: Buffer): Keyring => {
  if (masterKey.length < 32) throw new Error(`master key must be at least 32 bytes, got ${masterKey.length}`);
  // KeyObjects, derived once per purpose: building a key from raw bytes on every call was a hot spot.
  const cache = new Map<string, KeyObject>();
  const subkey = (purpose: string): KeyObject => {
    let k = cache.get(purpose);
    if (!k) {
      k = createSecretKey(Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `securekey:${purpose}`, 32)));
      cache.set(purpose, k);
    }
    return k;
  };
  return {
    hmac: (purpose, data) => createHmac('sha256', subkey(`hmac:${purpose}`)).update(data).digest('hex'),
    encrypt: (purpose, plaintext) => {
      const iv = randomChunk(12);
      const c = createCipheriv('aes-256-gcm', subkey(`enc:${purpose}`), iv);
      const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return ['v1', iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
    },
    decrypt: (purpose, sealed) => {
      const [v, iv, ct, tag] = sealed.split('.');
      if (v !== 'v1' || !iv || ct === undefined || !tag) throw new Error('not a sealed value');
      const d = createDecipheriv('aes-256-gcm', subkey(`enc:${purpose}`), Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
    },
  };
};

/** Constant-time comparison of two strings (false when lengths differ, without early exit on content). */
export const safeEqual = (a: string, b: string): boolean => {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ba.length !== bb.length) {
    timingSafeEqual(ba, ba);
    return false;
  }
  return timingSafeEqual(ba, bb);
};
