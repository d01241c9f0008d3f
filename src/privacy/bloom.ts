// A Bloom filter of strings in a fixed number of bits: `has` never answers false for what was
// added (no false negatives) and answers true for what was not with a small probability, which
// grows with the entries. The bits are allocated with the first entry.

/** 32-bit FNV-1a from `seed`, then murmur3's finaliser so that every bit depends on every char. */
const hash32 = (s: string, seed: number) => {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

export type BloomFilter = { add: (s: string) => void; has: (s: string) => boolean };

export const createBloomFilter = (bits: number, probes = 7): BloomFilter => {
  if (!(bits >= 8) || !Number.isInteger(Math.log2(bits))) throw new RangeError(`filterBits must be a power of two of at least 8, got ${bits}`);
  let filter: Uint8Array | undefined;
  /** Calls visit(byte, mask) for each of the string's probes; stops when it returns false. */
  const probe = (s: string, visit: (byte: number, mask: number) => boolean) => {
    const h1 = hash32(s, 0x811c9dc5);
    const h2 = hash32(s, 0x9747b28c) | 1;
    for (let i = 0; i < probes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & (bits - 1);
      if (!visit(bit >>> 3, 1 << (bit & 7))) return false;
    }
    return true;
  };
  return {
    add: (s) => {
      const f = (filter ??= new Uint8Array(bits / 8));
      probe(s, (byte, mask) => ((f[byte] |= mask), true));
    },
    has: (s) => {
      const f = filter;
      return f !== undefined && probe(s, (byte, mask) => (f[byte] & mask) !== 0);
    },
  };
};
