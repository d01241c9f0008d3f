// Random bytes for values that must be unpredictable and unique but are not keys: AES-GCM nonces,
// ids, request ids. One CSPRNG read of 4 KiB serves hundreds of them: a randomBytes call for 12
// or 16 bytes costs more than the value is worth on the hot path (a send seals five fields). A
// used pool is never refilled in place (a new one is allocated), so a value handed out is never
// overwritten and no two values share bytes. Keys and secrets (API keys, codes, data keys) do not
// come from here: they are read from the CSPRNG when they are made.
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

/** n fresh random bytes (n ≤ 4096), a view that stays valid and unshared. */
export const randomChunk = (n: number): Buffer => {
  if (n > POOL_BYTES) return randomBytes(n);
  if (used + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  return pool.subarray(used, (used += n));
};
