// The demo page in a real browser: Debian's chromium + a CDP virtual authenticator register a
// passkey and sign in through /demo/ against a live server; the captured assertion, replayed, fails.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import type { Browser } from 'playwright-core';
import { addVirtualAuthenticator, chromiumMissing, launchChromium } from './helpers/browser.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmsGateway } from './helpers/sms-gateway.ts';

const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');

/** A raw GET, so that the path reaches the server exactly as written (fetch would resolve ".."). */
const rawGet = (port: number, path: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });

describe('demo page: static files, headers, and off switch', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.stop());

  test('serves the listed files with their content types, a strict CSP and no inline script', async () => {
    const page = await fetch(`${s.url}/demo/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'every script is its own file');
    assert.doesNotMatch(html, /\son[a-z]+=|style=/i, 'no inline handlers or styles');
    for (const [path, type] of [
      ['/demo/demo.js', 'text/javascript; charset=utf-8'],
      ['/demo/demo.css', 'text/css; charset=utf-8'],
      ['/demo/vendor/simplewebauthn-browser.umd.min.js', 'text/javascript; charset=utf-8'],
    ] as const) {
      const r = await fetch(s.url + path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('content-type'), type, path);
      assert.ok((await r.text()).length > 100, path);
    }
    const bundle = await (await fetch(`${s.url}/demo/vendor/simplewebauthn-browser.umd.min.js`)).text();
    assert.match(bundle, /SimpleWebAuthnBrowser/);
    const redirect = await fetch(`${s.url}/demo`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/demo/');
  });

  test('anything not listed is a 404 envelope, path traversal included; other verbs are 405', async () => {
    for (const path of ['/demo/nope.js', '/demo/../package.json', '/demo/%2e%2e/package.json', '/demo/..%2f..%2fpackage.json', '/demo//etc/passwd', '/demo/vendor/', '/demo/demo.js/']) {
      const r = await rawGet(s.port, path);
      assert.equal(r.status, 404, path);
      const body = JSON.parse(r.body) as { success: boolean; code: string };
      assert.deepEqual([body.success, body.code], [false, 'ROUTE_NOT_FOUND'], path);
    }
    const post = await fetch(`${s.url}/demo/`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal(((await post.json()) as { code: string }).code, 'METHOD_NOT_ALLOWED');
  });

  test('with SECUREKEY_DEMO=false, /demo/ is a 404 envelope', async () => {
    const off = await startTestServer({ SECUREKEY_DEMO: 'false' });
    try {
      for (const path of ['/demo/', '/demo/demo.js']) {
        const r = await fetch(off.url + path);
        assert.equal(r.status, 404, path);
        const body = (await r.json()) as { success: boolean; code: string };
        assert.deepEqual([body.success, body.code], [false, 'ROUTE_NOT_FOUND']);
      }
    } finally {
      await off.stop();
    }
  });
});

const missing = chromiumMissing();
if (missing) console.log(`# skipping the real-browser passkey test: ${missing}`);

describe('demo page in a real browser (chromium + CDP virtual authenticator)', { skip: missing }, () => {
  let s: TestServer;
  let browser: Browser;
  let gateway: Awaited<ReturnType<typeof startSmsGateway>>;
  let tenant: { tenantId: string; apiKey: string };
  before(async () => {
    gateway = await startSmsGateway();
    [s, browser] = await Promise.all([startTestServer({ SECUREKEY_SMS_PROVIDER: 'http', SECUREKEY_SMS_HTTP_URL: gateway.url }), launchChromium()]);
    tenant = await s.createTenant('demo');
  });
  after(async () => {
    await browser?.close();
    await s?.stop();
    await gateway?.close();
  });

  test('TOTP enrollment, passkey registration and sign-in through /demo/; the captured assertion replayed fails', async () => {
    const origin = `http://localhost:${s.port}`;
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    const requests: { url: string; apiKey?: string }[] = [];
    page.on('request', (r) => void requests.push({ url: r.url(), apiKey: r.headers()['x-api-key'] }));
    const authenticator = await addVirtualAuthenticator(page);

    // The key arrives in the fragment (never sent to the server by the browser) and leaves the address bar.
    await page.goto(`${origin}/demo/#key=${tenant.apiKey}`);
    assert.equal(page.url(), `${origin}/demo/`);
    assert.equal(await page.inputValue('#apiKey'), tenant.apiKey);
    await page.fill('#userId', 'alice');

    // TOTP: enroll, the QR shows, confirm with a code from the shown secret.
    await page.fill('#accountName', 'alice@example.com');
    await page.click('#totpSetup');
    await page.waitForSelector('#totpResult[data-state="enrolling"]');
    assert.match((await page.getAttribute('#totpQr', 'src')) ?? '', /^data:image\/png;base64,/);
    assert.ok(await page.isVisible('#totpQr'));
    const secret = (await page.textContent('#totpSecret')) ?? '';
    await page.fill('#totpCode', await generate({ secret }));
    await page.click('#totpVerify');
    await page.waitForSelector('#totpResult[data-state="ok"]');

    // Passkey registration through the page (its own tab).
    await page.click('#tab-passkey');
    assert.equal(await page.isVisible('#totpSetup'), false, 'one tab at a time');
    await page.click('#passkeyRegister');
    await page.waitForSelector('#passkeyResult[data-state="ok"]');
    assert.match((await page.textContent('#passkeyResult')) ?? '', /Passkey registered/);
    const held = await authenticator.credentials();
    assert.equal(held.length, 1);
    assert.equal(held[0]!.rpId, 'localhost');
    const listed = await s.call(tenant.apiKey, '/api/v1/webauthn/credentials/list', { userId: 'alice' });
    assert.deepEqual(
      listed.body.data.credentials.map((c: { credentialId: string; deviceName: string }) => [c.credentialId, c.deviceName]),
      [[Buffer.from(held[0]!.credentialId, 'base64').toString('base64url'), 'Demo browser']],
    );

    // Sign in through the page, capturing the assertion it sends.
    const sent = page.waitForRequest((r) => r.url() === `${origin}/api/v1/webauthn/authenticate/verify`);
    await page.click('#passkeySignIn');
    const captured = JSON.parse((await sent).postData() ?? '{}') as Record<string, unknown>;
    await page.waitForSelector('#passkeyResult[data-state="ok"]');
    assert.match((await page.textContent('#passkeyResult')) ?? '', /Signed in as alice/);
    assert.equal(captured.userId, 'alice');
    assert.equal(typeof (captured.response as { signature?: unknown })?.signature, 'string');
    assert.ok((await authenticator.credentials())[0]!.signCount > held[0]!.signCount, 'the authenticator signed with the passkey');

    // The very same assertion, sent again, is refused: its challenge was used.
    const replay = await s.call(tenant.apiKey, '/api/v1/webauthn/authenticate/verify', captured);
    assert.equal(replay.status, 410, JSON.stringify(replay.body));
    assert.deepEqual([replay.body.success, replay.body.code], [false, 'CHALLENGE_EXPIRED']);
    const problemsBeforeReplay = [...problems];
    const replayFromPage = await page.evaluate(async (body) => {
      const r = await fetch('/api/v1/webauthn/authenticate/verify', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': (document.getElementById('apiKey') as HTMLInputElement).value },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: await r.json() };
    }, captured);
    assert.equal(replayFromPage.status, 410);
    assert.equal(replayFromPage.body.verified, undefined);

    // Username-less sign-in with the same (resident) passkey.
    await page.fill('#userId', '');
    await page.click('#passkeySignIn');
    await page.waitForFunction(() => /Signed in as alice/.test(document.getElementById('passkeyResult')?.textContent ?? '') && document.getElementById('passkeyResult')?.dataset.state === 'ok');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-passkey-demo.png'), fullPage: true });

    assert.deepEqual(problemsBeforeReplay, [], 'no console errors, CSP violations or page errors');
    assert.deepEqual(problems.slice(problemsBeforeReplay.length), ['console: Failed to load resource: the server responded with a status of 410 (Gone)']);
    const foreign = requests.filter((r) => !r.url.startsWith(`${origin}/`) && !r.url.startsWith('data:'));
    assert.deepEqual(foreign, [], 'the page talks to its own origin only');
    const withKey = requests.filter((r) => r.apiKey);
    assert.ok(withKey.length >= 6);
    assert.ok(withKey.every((r) => r.url.startsWith(`${origin}/api/v1/`)), 'the key goes to our API only');
    await context.close();
  });
  test('the SMS / email and push tabs: a code sent, a wrong one answered with the attempts left, the right one accepted; a push approved on the "device" verifies', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`http://localhost:${s.port}/demo/#key=${tenant.apiKey}`);
    await page.fill('#userId', 'bob');

    await page.click('#tab-otp');
    await page.fill('#otpTo', '01055556666');
    await page.click('#otpSend');
    await page.waitForSelector('#otpResult[data-state="sent"]');
    assert.match((await page.textContent('#otpResult')) ?? '', /^Code sent to \+82 10-\*\*\*\*-6666; it expires in 180 s\./);
    const code = /\b(\d{6})\b/.exec(gateway.messages.at(-1)!.text)![1]!;
    await page.fill('#otpCode', String((Number(code) + 1) % 1_000_000).padStart(6, '0'));
    await page.click('#otpVerify');
    await page.waitForSelector('#otpResult[data-state="fail"]');
    assert.equal(await page.textContent('#otpResult'), 'Wrong code: 4 attempts left for this code.');
    await page.fill('#otpCode', code);
    await page.click('#otpVerify');
    await page.waitForSelector('#otpResult[data-state="ok"]');

    await page.click('#tab-push');
    await page.click('#pushRegister');
    await page.waitForSelector('#pushResult[data-state="ok"]');
    await page.click('#pushSend');
    await page.waitForFunction(() => /^Push sent \(request \S+, pending\)/.test(document.getElementById('pushResult')?.textContent ?? ''));
    await page.click('#pushApprove');
    await page.waitForFunction(() => /The device answered: approved/.test(document.getElementById('pushResult')?.textContent ?? ''));
    await page.click('#pushCheck');
    await page.waitForSelector('#pushResult[data-state="ok"]');
    assert.equal(await page.textContent('#pushResult'), 'verified: true (status approved)');
    await context.close();
  });

  test('the recovery codes tab: a set shown once and gone from the page when saved, one code used as typed, a used code refused, the count', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`http://localhost:${s.port}/demo/#key=${tenant.apiKey}`);
    await page.fill('#userId', 'dora');
    await page.click('#tab-recovery');
    await page.click('#recoveryGenerate');
    await page.waitForSelector('#recoveryResult[data-state="sent"]');
    assert.equal(await page.textContent('#recoveryResult'), '10 codes generated. Each works once.');
    const codes = await page.$$eval('#recoveryCodes li', (lis) => lis.map((li) => li.textContent ?? ''));
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
    assert.match((await page.textContent('#recoveryShown')) ?? '', /Shown this once/);
    await page.click('#recoverySaved');
    assert.equal(await page.isVisible('#recoveryShown'), false);
    assert.equal(await page.$$eval('#recoveryCodes li', (lis) => lis.length), 0, 'the codes leave the page');

    await page.fill('#recoveryCode', codes[0]!.toUpperCase().replaceAll('-', ' '));
    await page.click('#recoveryVerify');
    await page.waitForSelector('#recoveryResult[data-state="ok"]');
    assert.equal(await page.textContent('#recoveryResult'), 'Code accepted; 9 codes left.');
    await page.click('#recoveryVerify');
    await page.waitForSelector('#recoveryResult[data-state="fail"]');
    assert.match((await page.textContent('#recoveryResult')) ?? '', /^Code refused: it is not an unused code of user "dora"'s current set \(each code works once\)\. 9 codes left\.$/);
    await page.click('#recoveryStatus');
    await page.waitForFunction(() => document.getElementById('recoveryResult')?.textContent === '9 of 10 codes left.');

    await page.click('#recoveryGenerate');
    await page.waitForSelector('#recoveryResult[data-state="fail"]');
    assert.match((await page.textContent('#recoveryResult')) ?? '', /ALREADY_ENROLLED/);
    await page.click('#recoveryRegenerate');
    await page.waitForSelector('#recoveryResult[data-state="sent"]');
    const fresh = await page.$$eval('#recoveryCodes li', (lis) => lis.map((li) => li.textContent ?? ''));
    assert.equal(fresh.length, 10);
    assert.equal(fresh.filter((c) => codes.includes(c)).length, 0, 'a new set');
    await context.close();
  });

  test('opened on 127.0.0.1 the page says to use localhost (or SECUREKEY_PUBLIC_URL) before and when a passkey fails; a wrong TOTP code says what to check', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`http://127.0.0.1:${s.port}/demo/#key=${tenant.apiKey}`);
    const hint = `Open http://localhost:${s.port}/demo/ instead, or set SECUREKEY_PUBLIC_URL`;
    assert.ok(await page.isVisible('#originHint'));
    assert.match((await page.textContent('#originHint')) ?? '', new RegExp(`^Passkeys need a domain name, and 127\\.0\\.0\\.1 is an IP address.*${hint.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    await page.click('#tab-passkey');
    await page.click('#passkeyRegister');
    await page.waitForSelector('#passkeyResult[data-state="fail"]');
    assert.ok(((await page.textContent('#passkeyResult')) ?? '').includes(hint));

    await page.fill('#userId', 'carol');
    await page.click('#tab-totp');
    await page.click('#totpSetup');
    await page.waitForSelector('#totpResult[data-state="enrolling"]');
    const right = await generate({ secret: (await page.textContent('#totpSecret')) ?? '' });
    await page.fill('#totpCode', String((Number(right) + 500_000) % 1_000_000).padStart(6, '0'));
    await page.click('#totpVerify');
    await page.waitForSelector('#totpResult[data-state="fail"]');
    assert.match((await page.textContent('#totpResult')) ?? '', /^Code refused: it is not the current code for user "carol"\. Enter the code the app shows now \(it changes every 30 s\)/);
    await context.close();
  });
});
