// Libraries only some installations or calls need are loaded when first needed, so that a server
// which does not use them does not hold their code in memory (docs/operations.md, Memory): the
// KurrentDB client, firebase-admin (FCM), nodemailer (SMTP), pino-pretty (LOG_FORMAT=pretty),
// @simplewebauthn/server (the first passkey call) and qrcode (the first TOTP enrollment). Each
// still works when used: the sender, passkey, TOTP and log tests exercise them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

const OPTIONAL = ['@kurrent/kurrentdb-client', '@grpc/grpc-js', 'firebase-admin', 'nodemailer', 'pino-pretty', '@simplewebauthn/server', 'qrcode'];

test('a SQLite server with the console senders starts, serves and stops without loading any optional library', () => {
  const out = execFileSync(process.execPath, ['test/fixtures/loaded-packages.ts'], { encoding: 'utf8', timeout: 120_000 });
  const loaded: string[] = JSON.parse(out.trim().split('\n').pop()!);
  assert.ok(loaded.includes('pino') && loaded.includes('@connectrpc/connect'), `the recorder sees the server's packages: ${loaded.join(', ')}`);
  assert.deepEqual(OPTIONAL.filter((p) => loaded.includes(p)), []);
});
