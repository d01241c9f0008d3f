// The operator console in Debian's chromium (playwright-core) against a live server with a seeded
// run, shared by the console's browser test files (one server and one browser per file):
// - "seeded": the insights traffic of the last hours (SMS in three countries, email, push, TOTP,
//   passkey failures) and older SMS traffic 3, 20 and 60 days back for the longer ranges;
// - "other": one more tenant with its own passkey failures (overall differs from per tenant);
// - "hooked": a tenant whose webhook endpoint answers hookStatus (500 until a test changes it).
// The page records what it requested, what the server refused and any error or CSP violation;
// screenshots go to test-artifacts/ (git-ignored).
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { createTestClock } from './clock.ts';
import { ADMIN_TOKEN, startTestServer } from './server.ts';
import { startSmsGateway } from './sms-gateway.ts';
import { seedOlderTraffic, seedPasskeyFailures, seedTraffic } from './traffic.ts';

export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** [days ago, SMS codes sent and verified]: only the 7, 30 and 90 day ranges reach them. */
export const OLDER_SMS = [[3, 4], [20, 2], [60, 1]] as const;

export type ConsoleRun = Awaited<ReturnType<typeof startConsoleRun>>;

export const startConsoleRun = async (opts: { viewport?: { width: number; height: number } } = {}) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const clock = createTestClock(-(OLDER_SMS.at(-1)![0] + 1) * DAY);
  const sms = await startSmsGateway();
  let hookStatus = 500;
  const hook = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(hookStatus).end(hookStatus === 200 ? 'ok' : 'broken'));
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const env = { SECUREKEY_SMS_PROVIDER: 'http', SECUREKEY_SMS_HTTP_URL: sms.url, SECUREKEY_WEBHOOK_MAX_ATTEMPTS: '2', SECUREKEY_WEBHOOK_BACKOFF_BASE_MS: '20', SECUREKEY_WEBHOOK_BACKOFF_MAX_MS: '40' };
  const [s, browser] = await Promise.all([startTestServer(env, { now: clock.now, metricsSampleMs: 500 }), launchChromium()]);

  const close = async () => {
    await browser.close();
    await s.stop();
    await sms.close();
    hook.close();
  };
  try {
    const seeded = await s.createTenant('seeded');
    const older = await seedOlderTraffic(s, sms, clock, seeded, OLDER_SMS);
    clock.advance(Date.now() - 6 * HOUR - clock.now());
    const traffic = await seedTraffic(s, sms, clock, seeded, { rounds: 3 });
    const other = await s.createTenant('other');
    const otherPasskeys = await seedPasskeyFailures(s, other, { failures: 1, userId: 'otherpasskeyuser' });
    // Deliveries are due from their recorded (real) time: bring the clock back to now.
    clock.advance(Math.max(0, Date.now() - clock.now()));
    const hooked = await s.createTenant('hooked', { webhookUrl: `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook` });
    await s.call(hooked.apiKey, '/api/v1/otp/send', { phone: '01012349876', purpose: 'login', userId: 'hookuser' });
    await s.call(hooked.apiKey, '/api/v1/otp/verify', { phone: '01012349876', code: sms.lastCode('+821012349876') });

    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 } });
    const page = await context.newPage();
    // Waits are for conditions, so a longer bound costs nothing when things go well; on a loaded
    // 2-core machine (full suites beside other work, load 10-14) a full-page screenshot of a chart
    // page once took more than 10 s.
    page.setDefaultTimeout(30_000);
    const problems: string[] = [];
    const requests: string[] = [];
    const refusals: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    page.on('request', (r) => void requests.push(r.url()));
    page.on('response', (r) => void (r.status() >= 400 && refusals.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname.replace(/tn_[\w-]+/, '{tenant}')}`)));

    return {
      s,
      sms,
      clock,
      browser,
      context,
      page,
      seeded,
      other,
      hooked,
      traffic,
      older,
      otherPasskeys,
      problems,
      requests,
      refusals,
      setHookStatus: (status: number) => void (hookStatus = status),
      shot: (name: string, p: Page = page) => p.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true }),
      /** Opens a page of the console by its address (#/...) and waits for `ready`. */
      go: async (hash: string, ready: string, p: Page = page) => {
        // Once the console has seen the change (it clears the page at once), `ready` is the new page's.
        await p.evaluate(
          (h) =>
            new Promise<void>((resolve) => {
              if (location.hash === h) return resolve();
              addEventListener('hashchange', () => resolve(), { once: true });
              location.hash = h;
            }),
          hash,
        );
        await p.waitForSelector(ready);
      },
      /** Opens the console and signs in (the token typed into the form). */
      signIn: async (p: Page = page) => {
        await p.goto(`${s.url}/console/`);
        await p.fill('#token', ADMIN_TOKEN);
        await p.keyboard.press('Enter');
        await p.waitForSelector('[data-page="tenants"] h1');
      },
      stop: close,
    };
  } catch (err) {
    await close();
    throw err;
  }
};

/** A chart's data table (under "Data"), as the page shows it: its column labels and rows. */
export const chartTable = (page: Page, figureId: string) =>
  page.$eval(`#${figureId} details table`, (t) => ({
    columns: [...t.querySelectorAll('thead th')].map((th) => th.textContent ?? ''),
    rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
  }));

/** The sum of one column of a chart's data table. */
export const columnSum = (table: { columns: string[]; rows: string[][] }, column: string) => {
  const i = table.columns.indexOf(column);
  if (i < 0) throw new Error(`no column ${column} in ${table.columns.join(', ')}`);
  return table.rows.reduce((n, r) => n + Number(r[i]), 0);
};
