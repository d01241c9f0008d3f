// SecureKey quickstart in Node with the SDK (@secondkey/node): the seed's flow — an SMS code, an
// email code, an authenticator app (TOTP), a passkey's registration options, a push approval.
//   npm install
//   SECUREKEY_URL=http://localhost:8080 SECUREKEY_API_KEY=2fa_... node quickstart.mjs
import { createInterface } from 'node:readline/promises';
import { TwoFactorClient, SecureKeyError } from '@secondkey/node';

const apiKey = process.env.SECUREKEY_API_KEY;
if (!apiKey) {
  console.error('Set SECUREKEY_API_KEY (npm run -s admin -- tenant create --name demo --json prints one).');
  process.exit(2);
}
const client = new TwoFactorClient({ apiKey, baseUrl: process.env.SECUREKEY_URL ?? 'http://localhost:8080' });
const phone = process.env.SECUREKEY_PHONE ?? '01012345678';
const email = process.env.SECUREKEY_EMAIL ?? 'user@example.com';
const userId = process.env.SECUREKEY_USER_ID ?? 'user_123';
const rl = createInterface({ input: process.stdin, output: process.stdout });
const ask = async (prompt) => (await rl.question(prompt)).trim();

try {
  // SMS: send, then verify the code the user typed.
  const sms = await client.sms.send({ phone, purpose: 'login' });
  const smsCode = await ask(`SMS code sent to ${sms.to}. Code: `);
  console.log(`sms verified: ${(await client.sms.verify({ phone, code: smsCode })).verified}`);

  // Email: the same with an address.
  const mail = await client.email.send({ email, purpose: 'login' });
  const mailCode = await ask(`Email code sent to ${mail.to}. Code: `);
  console.log(`email verified: ${(await client.email.verify({ email, code: mailCode })).verified}`);

  // TOTP: enroll (show setup.qrCodeDataUrl as an image, or the URI), then confirm a code from the app.
  const setup = await client.totp.setup({ userId, accountName: email });
  console.log(`Add to an authenticator app: ${setup.uri}`);
  const token = await ask('Code from the app: ');
  console.log(`totp verified: ${(await client.totp.verify({ userId, token })).verified}`);

  // Passkey: registration options for the browser (navigator.credentials.create({ publicKey })).
  const reg = await client.webauthn.registerOptions({ userId, userName: email });
  console.log(`passkey options for ${reg.publicKey.rp.id}: challenge ${reg.publicKey.challenge}`);

  // Push: register the user's phone, send a request, poll its outcome.
  await client.push.registerDevice({ userId, fcmToken: 'fcm_token_from_firebase_sdk', deviceName: 'iPhone 15', platform: 'ios' });
  const push = await client.push.send({ userId, title: '로그인 승인 요청', body: '새로운 기기에서 로그인을 시도합니다.' });
  await ask(`Push sent (request ${push.requestId}). Approve it on the phone, then press Enter: `);
  console.log(`push verified: ${(await client.push.verify(push.requestId)).verified}`);
} catch (err) {
  console.error(err instanceof SecureKeyError ? `${err.code}: ${err.message}` : err);
  process.exitCode = 1;
} finally {
  rl.close();
}
