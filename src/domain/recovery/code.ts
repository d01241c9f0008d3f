// Recovery codes as people read, write down and type them: 12 symbols of Crockford's base32
// alphabet (lower case: digits and letters without i, l, o, u), shown in three groups of four,
// e.g. "k7mq-2xw9-hc4t". 12 symbols × 5 bits = 60 bits of entropy per code, drawn from the CSPRNG
// (src/app/recovery.ts). Typing is forgiving: case, spaces, dashes and underscores are ignored and
// the letters people confuse with digits are read as those digits (o → 0, i and l → 1).

/** The 32 symbols, each 5 bits. */
export const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** Symbols per code. */
export const RECOVERY_CODE_SYMBOLS = 12;
/** Symbols per group of the displayed form. */
export const RECOVERY_GROUP = 4;
/** Bits of entropy per code: log2(32) × 12. */
export const RECOVERY_CODE_BITS = Math.log2(RECOVERY_ALPHABET.length) * RECOVERY_CODE_SYMBOLS;
/** Longest input considered at all (a grouped code with generous separators); longer is refused
 * before anything is read or written. */
export const MAX_RECOVERY_INPUT = 64;

const READ_AS: Record<string, string> = { o: '0', i: '1', l: '1' };

/** "k7mqhc4t2xw9" → "k7mq-hc4t-2xw9". */
export const formatRecoveryCode = (symbols: string): string => symbols.match(new RegExp(`.{1,${RECOVERY_GROUP}}`, 'g'))!.join('-');

/** What the user typed → the code's 12 symbols, or null when it cannot be a recovery code. */
export const normaliseRecoveryCode = (input: string): string | null => {
  let out = '';
  for (const ch of input.toLowerCase()) {
    if (ch === '-' || ch === '_' || /\s/.test(ch)) continue;
    const c = READ_AS[ch] ?? ch;
    if (!RECOVERY_ALPHABET.includes(c)) return null;
    out += c;
  }
  return out.length === RECOVERY_CODE_SYMBOLS ? out : null;
};
