// The operator console in a real browser (Debian's chromium through playwright-core) against a
// live server with a seeded run: sign in, create a tenant (secrets shown once), change a setting
// (a refused value shows the server's message), revoke a key, redeliver a webhook, find a user's
// timeline, phone width. One browser, one server (test/helpers/console-run.ts); the screenshots go
// to test-artifacts/ (git-ignored). The insights are in e2e-console-insights.test.ts, keyboard
// use and colour contrast in e2e-console-a11y.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromiumMissing } from './helpers/browser.ts';
import { startConsoleRun, type ConsoleRun } from './helpers/console-run.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';
import { CONSOLE_FILES } from '../src/api/console.ts';

describe('console: static files and headers', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.stop());

  test('every file is served with a strict CSP, no inline script or style; Chart.js comes from node_modules; anything else is a 404 envelope', async () => {
    const page = await fetch(`${s.url}/console/`);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) assert.ok(csp.includes(d), d);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'every script is its own file');
    assert.doesNotMatch(html, /\son[a-z]+=|style=/i, 'no inline handlers or styles');
    for (const name of [...Object.keys(CONSOLE_FILES), 'vendor/chart.umd.min.js']) {
      const r = await fetch(`${s.url}/console/${name}`);
      assert.equal(r.status, 200, name);
      const text = await r.text();
      assert.ok(text.length > 100, name);
      if (name.endsWith('.js')) assert.doesNotMatch(text, /\.innerHTML\s*=|setAttribute\(\s*['"]style|\beval\(/, `${name}: no HTML strings, inline styles or eval`);
    }
    assert.match(await (await fetch(`${s.url}/console/vendor/chart.umd.min.js`)).text(), /Chart\.js v4/);
    for (const path of ['/console/nope.js', '/console/../package.json', '/console/vendor/']) assert.equal((await fetch(s.url + path)).status, 404, path);
    assert.equal((await fetch(`${s.url}/console`, { redirect: 'manual' })).status, 308);
    const off = await startTestServer({ SECUREKEY_CONSOLE: 'false' });
    try {
      assert.equal((await fetch(`${off.url}/console/`)).status, 404);
    } finally {
      await off.stop();
    }
  });
});

const missing = chromiumMissing();
if (missing) console.log(`# skipping the console browser tests: ${missing}`);

describe('console in a real browser', { skip: missing }, () => {
  let run: ConsoleRun;
  let page: ConsoleRun['page'];
  let s: TestServer;
  before(async () => {
    run = await startConsoleRun();
    ({ page, s } = run);
  });
  after(() => run?.stop());
  const shot = (name: string) => run.shot(name);
  const go = (hash: string, ready: string) => run.go(hash, ready);

  test('sign in with the keyboard: a wrong token shows the server refusal, the right one opens Tenants; the token is in no address and not in localStorage', async () => {
    await page.goto(`${s.url}/console/`);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'token', 'the token field has the focus');
    await page.keyboard.type('not-the-token');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /wrong admin token \(UNAUTHORIZED\)/.test(document.getElementById('signInError')?.textContent ?? ''));
    await page.fill('#token', ADMIN_TOKEN);
    await page.check('#remember');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-page="tenants"] h1');
    assert.equal(await page.getAttribute('nav a[data-page="tenants"]', 'aria-current'), 'page');
    assert.ok((await page.textContent('#tenantsTitle'))?.startsWith('Tenants (3)'));
    assert.equal(await page.evaluate((t) => Object.keys(localStorage).some((k) => localStorage.getItem(k)?.includes(t)), ADMIN_TOKEN), false, 'not in localStorage');
    assert.equal(await page.evaluate((t) => Object.keys(sessionStorage).filter((k) => sessionStorage.getItem(k) === t).length, ADMIN_TOKEN), 1, 'kept for this tab only, as asked');
    // Reloaded, the tab is still signed in; the first Tab reaches the skip link, Enter moves to the content.
    await page.reload();
    await page.waitForSelector('#tenantsTitle');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
    await shot('tenants');
  });

  test('create a tenant: its API key and webhook secret are shown once, and the key works', async () => {
    await page.fill('#newName', 'made-in-console');
    await page.fill('#newWebhookUrl', 'https://example.com/hooks/sk');
    await page.click('#createTenant button[type="submit"]');
    await page.waitForSelector('#secretDialog[open]');
    const secrets = await page.$$eval('#secretList code', (els) => els.map((e) => e.textContent ?? ''));
    const [tenantId, apiKey, webhookSecret] = secrets;
    assert.match(tenantId!, /^tn_/);
    assert.match(apiKey!, /^2fa_/);
    assert.match(webhookSecret!, /^whsec_/);
    await shot('secret-once');
    await page.click('#secretDone');
    assert.equal(await page.$$eval('#secretList *', (els) => els.length), 0, 'the secrets leave the page');
    await page.waitForFunction(() => document.getElementById('tenantsTitle')?.textContent === 'Tenants (4)');
    assert.ok(!(await page.content()).includes(apiKey!), 'not shown again');
    const r = await s.call(apiKey!, '/api/v1/otp/send', { phone: '01011112222', purpose: 'login' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });

  test('change a setting: a refused value shows the server message at the field and nothing changes; an accepted one is saved', async () => {
    await page.click('text=made-in-console');
    await page.waitForSelector('#settingsForm');
    await page.fill('#setting-otpLength', '99');
    await page.click('#settingsForm button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('setting-otpLength-error')?.textContent ?? '') !== '');
    assert.equal(await page.textContent('#setting-otpLength-error'), 'settings.otpLength: expected an integer from 4 to 10');
    assert.equal(await page.getAttribute('#setting-otpLength', 'aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'setting-otpLength');
    await shot('setting-refused');
    const tenantId = (await page.textContent('h1 code'))!;
    assert.equal((await s.admin('GET', `/api/v1/admin/tenants/${tenantId}`)).body.data.settings.otpLength, undefined, 'nothing written');
    await page.fill('#setting-otpLength', '8');
    await page.selectOption('#setting-pushNumberMatching', 'true');
    await page.click('#settingsForm button[type="submit"]');
    await page.waitForFunction(() => /^Saved: otpLength, pushNumberMatching/.test(document.getElementById('status')?.textContent ?? ''));
    assert.equal(await page.textContent('#setting-otpLength-error'), '');
    const settings = (await s.admin('GET', `/api/v1/admin/tenants/${tenantId}`)).body.data.settings;
    assert.deepEqual([settings.otpLength, settings.pushNumberMatching], [8, true]);
  });

  test('issue and revoke a key: the new key is shown once, and the API refuses it once revoked', async () => {
    await page.fill('#keyName', 'ci');
    await page.click('#keys button[type="submit"]');
    await page.waitForSelector('#secretDialog[open]');
    const [keyId, apiKey] = await page.$$eval('#secretList code', (els) => els.map((e) => e.textContent ?? ''));
    await page.click('#secretDone');
    assert.equal((await s.call(apiKey!, '/api/v1/otp/send', { phone: '01033334444', purpose: 'login' })).status, 200);
    await page.click(`tr[data-key-id="${keyId}"] button.danger`);
    await page.waitForSelector('#confirmDialog[open]');
    assert.match((await page.textContent('#confirmText')) ?? '', /^Revoke the key "ci"/);
    await page.click('#confirmOk');
    await page.waitForSelector(`tr[data-key-id="${keyId}"] .badge.bad`);
    assert.equal(await page.textContent(`tr[data-key-id="${keyId}"] .badge`), 'revoked');
    const refused = await s.call(apiKey!, '/api/v1/otp/send', { phone: '01033334444', purpose: 'login' });
    assert.equal(refused.status, 401);
  });

  test('rotate the webhook secret: after a confirmation the new secret is shown once, and each rotation makes a new one', async () => {
    const rotate = async () => {
      await page.click('button:has-text("Rotate webhook secret")');
      await page.click('#confirmDialog[open] #confirmOk');
      await page.waitForSelector('#secretDialog[open]');
      const [secret] = await page.$$eval('#secretList code', (els) => els.map((e) => e.textContent ?? ''));
      await page.click('#secretDone');
      assert.equal(await page.$$eval('#secretList *', (els) => els.length), 0, 'the secret leaves the page');
      return secret!;
    };
    const first = await rotate();
    const second = await rotate();
    assert.match(first, /^whsec_/);
    assert.match(second, /^whsec_/);
    assert.notEqual(first, second);
    assert.ok(!(await page.content()).includes(second), 'not shown again');
  });

  test('MFA policies: create one from the form, see it listed, delete it', async () => {
    await page.fill('#policyName', 'payments need totp');
    await page.fill('#policyPurpose', 'payment');
    await page.check('#policyForm fieldset:nth-of-type(2) input[value="totp"]');
    await page.click('#policyForm button[type="submit"]');
    await page.waitForSelector('#policies td:text("payments need totp")');
    const tenantId = (await page.textContent('h1 code'))!;
    const listed = (await s.admin('GET', `/api/v1/admin/tenants/${tenantId}/policies`)).body.data.policies;
    assert.deepEqual(listed.map((p: { name: string; requiredChannels: string[]; match: { purpose: string } }) => [p.name, p.requiredChannels, p.match.purpose]), [['payments need totp', ['totp'], 'payment']]);
    await page.click('#policies button[aria-label="Delete policy payments need totp"]');
    await page.click('#confirmDialog[open] #confirmOk');
    await page.waitForSelector('#policies td:text("No policies")');
    assert.deepEqual((await s.admin('GET', `/api/v1/admin/tenants/${tenantId}/policies`)).body.data.policies, []);
  });

  test('redeliver a dead webhook once the endpoint answers: each attempt with its response, then delivered; the endpoint health shows it', async () => {
    await until('the delivery died', async () => (await s.admin('GET', `/api/v1/admin/tenants/${run.hooked.tenantId}/webhook-deliveries?status=dead`)).body.data.deliveries.length > 0);
    await go('#/webhooks', '#deliveries table');
    await page.selectOption('#tenantPick', run.hooked.tenantId);
    await page.waitForSelector('tr[data-status="dead"]');
    assert.match((await page.textContent('#healthTitle')) ?? '', /failing/);
    await page.click('tr[data-status="dead"] button[aria-label^="Attempts"]');
    await page.waitForSelector('tr.detail table');
    assert.deepEqual(await page.$$eval('tr.detail tbody tr td:nth-child(3)', (tds) => tds.map((td) => td.textContent)), ['HTTP 500', 'HTTP 500']);
    await shot('webhooks');
    run.setHookStatus(200);
    await page.click('tr[data-status="dead"] button[aria-label^="Redeliver"]');
    await until('delivered', async () => {
      await page.click('#deliveries button:text("Refresh")');
      return page.$('tr[data-status="delivered"]');
    });
    assert.match((await page.textContent('#healthTitle')) ?? '', /healthy/);
  });

  test("find a user's timeline in the audit trail", async () => {
    await go('#/audit', '#auditForm');
    await page.selectOption('#tenantPick', run.seeded.tenantId);
    await page.selectOption('#auditChannel', 'push');
    await page.fill('#auditOutcome', 'reported');
    await page.click('#auditForm button[type="submit"]');
    await page.waitForFunction(() => /^Records \(3\)/.test(document.getElementById('resultsTitle')?.textContent ?? ''));
    await page.click('#auditResults button[aria-label="Timeline of pushuser1"]');
    await page.waitForSelector('#timeline');
    assert.equal(await page.textContent('#resultsTitle'), 'Timeline of pushuser1');
    const entries = await page.$$eval('#timeline li li strong', (els) => els.map((e) => e.textContent));
    for (const action of ['push.device_registered', 'push.requested', 'push.approved', 'push.denied', 'push.reported']) assert.ok(entries.includes(action), `${action} in ${entries}`);
    await shot('audit-timeline');
  });

  test('the audit search narrows by time, and exports what it found as JSON Lines (every record, one per line)', async () => {
    await page.fill('#auditUser', '');
    await page.selectOption('#auditChannel', 'push');
    await page.fill('#auditOutcome', 'reported');
    await page.fill('#auditFrom', '');
    await page.fill('#auditTo', '');
    await page.click('#auditForm button[type="submit"]');
    await page.waitForFunction(() => /^Records \(3\)/.test(document.getElementById('resultsTitle')?.textContent ?? ''));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#auditExport')]);
    assert.match(download.suggestedFilename(), /^audit-.*\.jsonl$/);
    const lines = readFileSync((await download.path())!, 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, 3);
    for (const line of lines) {
      const rec = JSON.parse(line) as { channel: string };
      assert.equal(rec.channel, 'push');
    }
    // A range that ends before the seeded run finds nothing.
    await page.fill('#auditTo', '2000-01-01T00:00');
    await page.click('#auditForm button[type="submit"]');
    await page.waitForFunction(() => /^Records \(0\)/.test(document.getElementById('resultsTitle')?.textContent ?? ''));
    await page.fill('#auditTo', '');
  });

  test('phone width: no page scrolls sideways, the navigation wraps, and the charts fit', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, ready] of [['#/insights', '#chartStarted[data-drawn="true"]'], ['#/tenants', '#tenantsTitle'], ['#/webhooks', '#deliveries'], ['#/audit', '#auditForm'], ['#/system', '#readModels']] as const) {
      await go(hash, ready);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${hash} is ${overflow} px wider than the screen`);
    }
    await go('#/insights', '#chartStarted[data-drawn="true"]');
    await shot('insights-phone-auto');
    await page.click('#theme'); // light
    await page.click('#theme'); // dark
    await shot('insights-phone-dark');
    await page.click('#theme'); // auto
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('nothing left the origin, the token never appeared in an address, and the page logged no error or CSP violation', () => {
    const foreign = run.requests.filter((u) => !u.startsWith(`${s.url}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));
    assert.deepEqual(foreign, []);
    assert.deepEqual(run.requests.filter((u) => u.includes(ADMIN_TOKEN)), []);
    // The server refused exactly what the tests asked it to refuse: the wrong token and the setting out of range.
    assert.deepEqual(run.refusals, ['401 GET /api/v1/admin/tenants', '400 PATCH /api/v1/admin/tenants/{tenant}/settings']);
    assert.deepEqual(run.problems.filter((p) => !/Failed to load resource: the server responded with a status of (401|400)/.test(p)), []);
  });
});
