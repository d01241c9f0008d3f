// The console's Insights and System pages in a real browser (Debian's chromium through
// playwright-core) against a live server with a seeded run (test/helpers/console-run.ts): the
// charts drawn from the run's data per tenant and overall, the pumping signal, the range selector
// (24 h, 7 d, 30 d, 90 d) reaching the older traffic, and the passkey failures of real ceremonies.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromiumMissing } from './helpers/browser.ts';
import { chartTable, columnSum, HOUR, startConsoleRun, type ConsoleRun } from './helpers/console-run.ts';

const missing = chromiumMissing();
if (missing) console.log(`# skipping the console insights browser tests: ${missing}`);

describe('console insights in a real browser', { skip: missing }, () => {
  let run: ConsoleRun;
  let page: ConsoleRun['page'];
  before(async () => {
    run = await startConsoleRun();
    page = run.page;
    await run.signIn();
  });
  after(() => run?.stop());

  /** Picks a tenant ('' for all) and a range, and waits until the page shows them. */
  const show = async (tenantId: string, range: string) => {
    if ((await page.$('#insightsBody')) === null) await run.go('#/insights', '#insightsBody');
    await page.selectOption('#insightsTenant', tenantId);
    await page.selectOption('#insightsRange', range);
    await page.waitForSelector(`#insightsBody[data-shown="${`${range} ${tenantId}`.trim()}"]`);
    await page.waitForSelector('#chartFailures[data-drawn="true"]');
  };

  test('the charts are drawn with the seeded run, per tenant and overall, with the pumping signal; System lists the read models', async () => {
    await show(run.seeded.tenantId, '24h');
    const drawn = await page.evaluate(() => {
      const Chart = (window as unknown as { Chart: { getChart: (c: HTMLCanvasElement) => { data: { datasets: { label: string; data: number[] }[] } } | undefined } }).Chart;
      const sums: Record<string, Record<string, number>> = {};
      for (const fig of document.querySelectorAll('figure.chart')) {
        const c = Chart.getChart(fig.querySelector('canvas')!);
        sums[fig.id] = Object.fromEntries((c?.data.datasets ?? []).map((d) => [d.label, d.data.reduce((a, b) => a + b, 0)]));
      }
      return sums;
    });
    assert.equal(drawn.chartStarted!.sms, 24);
    assert.equal(drawn.chartVerified!.sms, 9);
    assert.deepEqual(drawn.chartCountries, { sent: 24, verified: 9 });
    assert.deepEqual(drawn.chartPush, { approved: 3, denied: 6, '"not me"': 3, 'number mismatch': 1 });
    assert.equal(drawn.chartFailures!['TOTP throttled'], 1);
    assert.ok(drawn.chartLatency!.p99! > 0, 'latency from the server metrics');
    assert.ok('insights' in drawn.chartLag!);
    assert.match((await page.textContent('#pumpingSignal')) ?? '', /^Possible SMS pumping: US \(12 sent, 0 % verified\)/);
    // The canvases hold pixels.
    const painted = await page.$eval('#chartCountries canvas', (c) => (c as HTMLCanvasElement).toDataURL().length);
    assert.ok(painted > 3000, `painted ${painted}`);
    await run.shot('insights-light');
    await show('', '24h');
    assert.equal(columnSum(await chartTable(page, 'chartStarted'), 'sms'), 24 + 1, "every tenant: the hooked tenant's code too");

    await page.click('#theme'); // light
    await page.click('#theme'); // dark
    assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
    await run.shot('insights-dark');
    await page.click('#theme'); // auto

    await run.go('#/system', '#readModels table');
    const models = await page.$$eval('#readModels tr[data-read-model]', (rows) => rows.map((r) => (r as HTMLElement).dataset.readModel));
    for (const m of ['tenants', 'audit', 'insights', 'webhooks']) assert.ok(models.includes(m), m);
    assert.match((await page.textContent('#store')) ?? '', /reachable/);
    await run.shot('system');
  });

  test('the range selector: 24 h, 7 d, 30 d and 90 d each show their own buckets and labels, and reach back to the older traffic (3, 20 and 60 days ago)', async () => {
    // SMS codes sent (and verified) in each range: the last hours' run, then each older batch the range reaches.
    const older = (days: number) => run.older.filter((o) => o.days <= days).reduce((n, o) => n + o.codes, 0);
    const recent = run.traffic.smsSent.KR + run.traffic.smsSent.US + run.traffic.smsSent.GB;
    const verified = run.traffic.smsVerified.KR + run.traffic.smsVerified.US + run.traffic.smsVerified.GB;
    const ranges = [
      { range: '24h', days: 1, stepHours: 1 },
      { range: '7d', days: 7, stepHours: 1 },
      { range: '30d', days: 30, stepHours: 6 },
      { range: '90d', days: 90, stepHours: 12 },
    ];
    const seen: { range: string; first: string; rows: number }[] = [];
    for (const r of ranges) {
      await show(run.seeded.tenantId, r.range);
      const buckets = (r.days * 24) / r.stepHours;
      const title = (await page.textContent('#totalsTitle')) ?? '';
      const m = /^Totals \((\d+) buckets of (\d+) h\)$/.exec(title);
      assert.ok(m, title);
      assert.equal(Number(m[2]), r.stepHours, `${r.range}: ${title}`);
      assert.ok(Number(m[1]) === buckets || Number(m[1]) === buckets + 1, `${r.range}: ${title}`);
      const started = await chartTable(page, 'chartStarted');
      assert.equal(started.rows.length, Number(m[1]), `${r.range}: a row per bucket`);
      assert.equal(columnSum(started, 'sms'), recent + older(r.days), `${r.range}: SMS sent`);
      assert.equal(columnSum(await chartTable(page, 'chartVerified'), 'sms'), verified + older(r.days), `${r.range}: SMS verified`);
      const countries = await chartTable(page, 'chartCountries');
      assert.deepEqual(countries.rows.find((row) => row[0] === 'KR'), ['KR', String(run.traffic.smsSent.KR + older(r.days)), String(run.traffic.smsVerified.KR + older(r.days))], `${r.range}: Korea`);
      // Each older batch the range reaches is in the bucket of its own time, with its own label.
      for (const o of run.older.filter((x) => x.days <= r.days)) {
        const step = r.stepHours * HOUR;
        const label = await page.evaluate((ms) => {
          const d = new Date(ms);
          const pad = (n: number) => String(n).padStart(2, '0');
          return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:00`;
        }, Math.floor(o.at / step) * step);
        const row = started.rows.find((x) => x[0] === label);
        assert.ok(row, `${r.range}: no bucket labelled ${label} for the batch of ${o.days} days ago`);
        assert.equal(Number(row[started.columns.indexOf('sms')]), o.codes, `${r.range}: ${label}`);
      }
      seen.push({ range: r.range, first: started.rows[0]![0]!, rows: started.rows.length });
      await run.shot(`insights-${r.range}`);
    }
    assert.equal(new Set(seen.map((x) => x.first)).size, ranges.length, `each range starts elsewhere: ${JSON.stringify(seen)}`);
    await show(run.seeded.tenantId, '24h');
  });

  test('passkey failures from real ceremonies (wrong origin, a replayed signature, a counter gone backwards) are in the charts and their data tables, per tenant and overall', async () => {
    const mine = run.traffic.passkeys;
    const other = run.otherPasskeys;
    for (const [tenantId, expected] of [
      [run.seeded.tenantId, mine],
      [run.other.tenantId, other],
      ['', { started: mine.started + other.started, verified: mine.verified + other.verified, failed: mine.failed + other.failed, cloneSuspected: mine.cloneSuspected + other.cloneSuspected }],
    ] as const) {
      await show(tenantId, '24h');
      const failures = await chartTable(page, 'chartFailures');
      assert.equal(columnSum(failures, 'passkey failed'), expected.failed, `${tenantId || 'all'}: failed`);
      assert.equal(columnSum(failures, 'passkey clone suspected'), expected.cloneSuspected, `${tenantId || 'all'}: clone suspected`);
      assert.equal(columnSum(await chartTable(page, 'chartStarted'), 'webauthn'), expected.started, `${tenantId || 'all'}: challenges`);
      assert.equal(columnSum(await chartTable(page, 'chartVerified'), 'webauthn'), expected.verified, `${tenantId || 'all'}: signed in`);
      const totals = await page.$$eval('#insightsBody section.wide table tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
      assert.deepEqual(totals.find((row) => row[0] === 'webauthn')?.slice(0, 3), ['webauthn', String(expected.started), String(expected.verified)]);
    }
    assert.ok(mine.failed >= 2 && other.failed >= 1, 'both tenants failed');
    await page.click('#chartFailures summary');
    await run.shot('insights-passkey-failures');
  });

  test('the page logged no error or CSP violation and asked the server for nothing it refused', () => {
    assert.deepEqual(run.refusals, []);
    assert.deepEqual(run.problems, []);
  });
});
