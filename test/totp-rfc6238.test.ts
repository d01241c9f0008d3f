// RFC 6238 Appendix B test vectors, through otplib (the library the TOTP service uses), with its
// own HMACs and with the node:crypto ones the service gives it (src/crypto/otp-crypto.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate, verify, verifySync } from 'otplib';
import { otpCrypto } from '../src/crypto/otp-crypto.ts';

const seeds = {
  sha1: '12345678901234567890',
  sha256: '12345678901234567890123456789012',
  sha512: '1234567890123456789012345678901234567890123456789012345678901234',
} as const;

// [time (s), SHA-1, SHA-256, SHA-512]
const vectors: [number, string, string, string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

for (const [i, algorithm] of (['sha1', 'sha256', 'sha512'] as const).entries()) {
  test(`RFC 6238 Appendix B: ${algorithm.toUpperCase()} vectors generate and verify (8 digits, 30 s)`, async () => {
    const secret = new TextEncoder().encode(seeds[algorithm]);
    for (const row of vectors) {
      const epoch = row[0];
      const expected = row[i + 1] as string;
      assert.equal(await generate({ secret, algorithm, digits: 8, period: 30, epoch }), expected, `T=${epoch}`);
      const res = await verify({ secret, token: expected, algorithm, digits: 8, period: 30, epoch, epochTolerance: 30 });
      assert.ok(res.valid && 'timeStep' in res && res.timeStep === Math.floor(epoch / 30), `T=${epoch} verifies at its own step`);
      const mine = verifySync({ secret, token: expected, algorithm, digits: 8, period: 30, epoch, epochTolerance: 30, crypto: otpCrypto });
      assert.ok(mine.valid && 'timeStep' in mine && mine.timeStep === Math.floor(epoch / 30), `T=${epoch} verifies with node:crypto`);
      const wrong = `${(Number(expected[0]) + 1) % 10}${expected.slice(1)}`;
      assert.equal(verifySync({ secret, token: wrong, algorithm, digits: 8, period: 30, epoch, epochTolerance: 30, crypto: otpCrypto }).valid, false, `T=${epoch}: one digit off`);
    }
  });
}
