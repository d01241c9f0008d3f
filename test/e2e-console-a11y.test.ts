// The console's accessibility in a real browser (Debian's chromium through playwright-core)
// against a live server with a seeded run (test/helpers/console-run.ts):
// - keyboard only: every page reached and operated with Tab, Shift+Tab, Enter, Space, Escape and
//   the arrow keys (plus typing into fields), with a visible focus indicator at every stop;
// - axe-core's WCAG 2.0/2.1 A and AA rules (colour contrast among them) on every page, in the light
//   and the dark colour scheme, at 1280x800 and at a 390 px phone width: no violation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { chromiumMissing } from './helpers/browser.ts';
import { startConsoleRun, type ConsoleRun } from './helpers/console-run.ts';
import { ADMIN_TOKEN } from './helpers/server.ts';
import { until } from './helpers/until.ts';

const missing = chromiumMissing();
if (missing) console.log(`# skipping the console accessibility browser tests: ${missing}`);

/** The focused element, described; `visible`: it shows a focus indicator (an outline of 2 px or more, or a box shadow). */
type Focus = { tag: string; id: string; text: string; label: string; visible: boolean; inDialog: boolean; selector: boolean };

describe('console accessibility in a real browser', { skip: missing }, () => {
  let run: ConsoleRun;
  let page: ConsoleRun['page'];
  before(async () => {
    run = await startConsoleRun();
    page = run.page;
    await until('the hooked delivery died', async () => (await run.s.admin('GET', `/api/v1/admin/tenants/${run.hooked.tenantId}/webhook-deliveries?status=dead`)).body.data.deliveries.length > 0);
  });
  after(() => run?.stop());

  const focus = (selector = ''): Promise<Focus> =>
    page.evaluate((sel) => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return { tag: 'body', id: '', text: '', label: '', visible: false, inDialog: false, selector: false };
      const style = getComputedStyle(el);
      const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
      return {
        tag: el.tagName.toLowerCase(),
        id: el.id,
        text: (el.textContent ?? '').trim().slice(0, 60),
        label: el.getAttribute('aria-label') ?? '',
        visible: outline || style.boxShadow !== 'none',
        inDialog: !!el.closest('dialog[open]'),
        selector: sel ? el.matches(sel) : false,
      };
    }, selector);
  const describeFocus = (f: Focus) => `${f.tag}${f.id ? `#${f.id}` : ''}${f.label ? `[${f.label}]` : ''} "${f.text}"`;

  /** Presses a key and checks that the focus that follows is visible. */
  const press = async (key: string) => {
    await page.keyboard.press(key);
    const f = await focus();
    assert.ok(f.visible, `after ${key}, the focus on ${describeFocus(f)} is not visible`);
    return f;
  };
  /** Tab (or Shift+Tab) until the focused element matches `selector`; every stop on the way shows its focus. */
  const tabTo = async (selector: string, opts: { back?: boolean; max?: number } = {}) => {
    const stops: string[] = [];
    for (let i = 0; i < (opts.max ?? 120); i++) {
      await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
      const f = await focus(selector);
      assert.ok(f.tag !== 'body', `the focus fell to <body> after ${stops.slice(-5).join(' → ')}`);
      assert.ok(f.visible, `no visible focus on ${describeFocus(f)}`);
      if (f.selector) return f;
      stops.push(describeFocus(f));
    }
    assert.fail(`${selector} not reached with ${opts.back ? 'Shift+Tab' : 'Tab'}; stops: ${stops.slice(0, 40).join(' → ')}`);
  };
  /** Arrow keys on a focused <select> until it shows `value` (it changes, and fires change, without opening). */
  const arrowTo = async (selector: string, value: string) => {
    for (const key of ['ArrowDown', 'ArrowUp']) {
      for (let i = 0; i < 12; i++) {
        if ((await page.$eval(selector, (s) => (s as HTMLSelectElement).value)) === value) return;
        const before = await page.$eval(selector, (s) => (s as HTMLSelectElement).value);
        await press(key);
        if ((await page.$eval(selector, (s) => (s as HTMLSelectElement).value)) === before) break;
      }
    }
    assert.equal(await page.$eval(selector, (s) => (s as HTMLSelectElement).value), value, `${selector} by arrow keys`);
  };
  /** Waits for a dialog to close (a closed dialog is not displayed: waitForSelector would wait for it to show). */
  const closed = (id: string) => page.waitForFunction((i) => !(document.getElementById(i) as HTMLDialogElement).open, id);
  /** Escape on an open dialog: where the focus was the moment the dialog closed (read in that very
   * task, with the layout brought up to date, before any later script could move it), and after. */
  const escapeFrom = async (id: string) => {
    await page.evaluate((i) => {
      const dialog = document.getElementById(i) as HTMLDialogElement;
      const seen = new MutationObserver(() => {
        if (dialog.open) return;
        seen.disconnect();
        document.body.getBoundingClientRect(); // the focus fix-up of a closed dialog's control
        const el = document.activeElement;
        dialog.dataset.focusAtClose = !el || el === document.body ? 'body' : el.id || el.tagName.toLowerCase();
      });
      seen.observe(dialog, { attributes: true, attributeFilter: ['open'] });
    }, id);
    await page.keyboard.press('Escape');
    await closed(id);
    return { atClose: await page.$eval(`#${id}`, (d) => (d as HTMLElement).dataset.focusAtClose), after: await focus() };
  };
  /** Opens a page from the navigation: Shift+Tab back to its link, Enter. */
  const navTo = async (name: string, ready: string) => {
    await tabTo(`nav a[data-page="${name}"]`, { back: true });
    await press('Enter');
    await page.waitForSelector(ready);
  };

  test('keyboard: sign in, the skip link, sign out and in again', async () => {
    await page.goto(`${run.s.url}/console/`);
    assert.equal((await focus()).id, 'token', 'the token field has the focus');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-page="tenants"] #tenantsTitle');
    assert.equal((await focus()).id, 'main', 'signed in, the focus is on the content (the target of the skip link, not a control: no ring)');
    await tabTo('#signOut', { back: true });
    await press('Enter');
    await page.waitForSelector('#signIn:not([hidden])');
    assert.equal(await page.isHidden('#nav'), true);
    assert.equal((await focus()).id, 'token', 'signed out, the focus is on the token field');
    await page.keyboard.type(ADMIN_TOKEN);
    await press('Tab');
    assert.equal((await press('Space')).id, 'remember');
    assert.equal(await page.isChecked('#remember'), true, 'kept for this tab');
    await tabTo('#signInForm button[type="submit"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#tenantsTitle');
    // Reloaded (still signed in), the skip link is the first stop from the top, and leads to the content.
    await page.reload();
    await page.waitForSelector('#tenantsTitle');
    const skip = await press('Tab');
    assert.equal(skip.text, 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal((await focus()).id, 'main');
  });

  test('keyboard: Tenants — create a tenant (the secrets dialog closes with Escape, focus back on the form), open it, issue a key and revoke it with its confirmation', async () => {
    await tabTo('#newName');
    await page.keyboard.type('kbd-tenant');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#secretDialog[open]');
    assert.ok((await focus()).inDialog, 'the focus moved into the dialog');
    const [tenantId] = await page.$$eval('#secretList code', (els) => els.map((e) => e.textContent ?? ''));
    // Tab cycles through the modal dialog (and the browser's own controls, where the page has no
    // focus); nothing behind it is reached.
    const cycle: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      const f = await focus();
      assert.ok(f.inDialog || f.tag === 'body', `Tab left the dialog for ${describeFocus(f)}`);
      if (!f.inDialog) continue;
      assert.ok(f.visible, `no visible focus on ${describeFocus(f)}`);
      cycle.push(describeFocus(f));
    }
    assert.ok(new Set(cycle).size >= 3, `the dialog's controls: ${cycle}`);
    while (!(await focus()).inDialog) await page.keyboard.press('Tab');
    await page.keyboard.press('Escape');
    await closed('secretDialog');
    assert.equal((await focus()).id, 'newName', 'closed with Escape, the focus is back on its opener');
    assert.equal(await page.$$eval('#secretList *', (els) => els.length), 0, 'the secrets left the page');

    await tabTo(`a[href="#/tenants/${tenantId}"]`, { back: true });
    await page.keyboard.press('Enter'); // the link leaves with the page it was on
    await page.waitForSelector('#keys');
    await until('the title focused', async () => (await focus()).tag === 'h1');
    assert.deepEqual([(await focus()).tag, (await focus()).text], ['h1', `kbd-tenant ${tenantId}`], 'the new page has the focus on its title');

    await tabTo('#keyName');
    await page.keyboard.type('kbd');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#secretDialog[open]');
    const [keyId] = await page.$$eval('#secretList code', (els) => els.map((e) => e.textContent ?? ''));
    // The key list reloads behind the dialog: wait until it has (the new key's row), so that the
    // field the dialog was opened from is always gone by the time Escape closes it.
    await page.waitForSelector(`tr[data-key-id="${keyId}"]`, { state: 'attached' });
    const { atClose, after: back } = await escapeFrom('secretDialog');
    assert.equal(atClose, 'keyName', 'the focus is on the key name field from the moment the dialog closes, never on <body>');
    assert.equal(back.id, 'keyName', 'back on the key name field (the page was redrawn behind the dialog)');

    const revoke = `button[aria-label="Revoke key kbd (${keyId})"]`;
    await tabTo(revoke, { back: true });
    await press('Enter');
    await page.waitForSelector('#confirmDialog[open]');
    assert.equal((await focus()).id, 'confirmCancel', 'Cancel has the focus');
    await page.keyboard.press('Escape');
    await closed('confirmDialog');
    assert.ok((await focus(revoke)).selector, 'Escape cancels, and the focus is back on Revoke');
    assert.equal(await page.textContent(`tr[data-key-id="${keyId}"] .badge`), 'active', 'not revoked');
    await press('Enter');
    await page.waitForSelector('#confirmDialog[open]');
    assert.equal((await press('Tab')).id, 'confirmOk');
    await press('Enter');
    await page.waitForSelector(`tr[data-key-id="${keyId}"] .badge.bad`);
    await until('the focus on the keys heading', async () => (await focus()).id === 'keysTitle');
    assert.ok((await focus()).visible);
    const keys = (await run.s.admin('GET', `/api/v1/admin/tenants/${tenantId}`)).body.data.keys as { keyId: string; revoked: boolean }[];
    assert.equal(keys.find((k) => k.keyId === keyId)?.revoked, true);
  });

  test('keyboard: Tenants — change settings (typed, and a choice by arrow keys), add an MFA policy (checkbox by Space) and delete it, rotate the webhook secret', async () => {
    const tenantId = (await page.textContent('h1 code'))!;
    await tabTo('#setting-otpLength');
    await page.keyboard.type('7');
    await tabTo('#setting-pushNumberMatching');
    await arrowTo('#setting-pushNumberMatching', 'true');
    await tabTo('#settingsForm button[type="submit"]');
    await press('Space');
    await page.waitForFunction(() => /^Saved: otpLength, pushNumberMatching/.test(document.getElementById('status')?.textContent ?? ''));
    const settings = (await run.s.admin('GET', `/api/v1/admin/tenants/${tenantId}`)).body.data.settings;
    assert.deepEqual([settings.otpLength, settings.pushNumberMatching], [7, true]);

    await tabTo('#policyName');
    await page.keyboard.type('kbd policy');
    await press('Tab');
    await page.keyboard.type('payment');
    await tabTo('#policyForm fieldset:nth-of-type(2) input[value="totp"]');
    await press('Space');
    assert.equal(await page.isChecked('#policyForm fieldset:nth-of-type(2) input[value="totp"]'), true);
    await tabTo('#policyForm button[type="submit"]');
    await press('Enter');
    await page.waitForSelector('#policies td:text("kbd policy")');
    assert.equal((await run.s.admin('GET', `/api/v1/admin/tenants/${tenantId}/policies`)).body.data.policies.length, 1);
    await tabTo('button[aria-label="Delete policy kbd policy"]', { back: true });
    await press('Enter');
    await page.waitForSelector('#confirmDialog[open]');
    await press('Tab');
    await press('Enter');
    await page.waitForSelector('#policies td:text("No policies")');
    await until('the focus on the policies heading', async () => (await focus()).id === 'policiesTitle');
    assert.deepEqual((await run.s.admin('GET', `/api/v1/admin/tenants/${tenantId}/policies`)).body.data.policies, []);

    await tabTo('#rotateSecret');
    await press('Enter');
    await page.waitForSelector('#confirmDialog[open]');
    await press('Tab');
    await press('Enter');
    await page.waitForSelector('#secretDialog[open]');
    assert.match((await page.textContent('#secretList code')) ?? '', /^whsec_/);
    await run.shot('a11y-keyboard-secret-dialog');
    await page.keyboard.press('Escape');
    await closed('secretDialog');
    assert.ok((await focus('#rotateSecret')).selector, 'the focus is back on the button that opened the dialogs');
  });

  test('keyboard: Webhooks — the tenant picked by arrow keys, a dead delivery’s attempts opened, redelivered once the endpoint answers', async () => {
    await navTo('webhooks', '#deliveries');
    await tabTo('#tenantPick');
    await arrowTo('#tenantPick', run.hooked.tenantId);
    await page.waitForSelector('tr[data-status="dead"]');
    await tabTo('tr[data-status="dead"] button[aria-label^="Attempts"]');
    await press('Enter');
    await page.waitForSelector('tr.detail table');
    assert.equal(await page.getAttribute('tr[data-status="dead"] button[aria-label^="Attempts"]', 'aria-expanded'), 'true');
    run.setHookStatus(200);
    const redeliver = await tabTo('tr[data-status="dead"] button[aria-label^="Redeliver"]');
    await press('Enter');
    await page.waitForFunction(() => /queued again/.test(document.getElementById('status')?.textContent ?? ''));
    // The list refreshes under the focus: it stays on the same delivery's button.
    await until('the delivery redelivered', async () => {
      await page.waitForTimeout(300);
      const f = await focus();
      assert.equal(f.label, redeliver.label, `the focus stayed on ${redeliver.label}, not ${describeFocus(f)}`);
      if (await page.$('tr[data-status="delivered"]')) return true;
      await tabTo('#deliveriesRefresh', { back: true });
      await press('Enter');
      await tabTo(`button[aria-label="${redeliver.label}"]`);
      return false;
    }, 30_000);
  });

  test('keyboard: Audit — a search by channel and outcome, then a user’s timeline', async () => {
    await navTo('audit', '#auditForm');
    await tabTo('#tenantPick');
    await arrowTo('#tenantPick', run.seeded.tenantId);
    await tabTo('#auditChannel');
    await arrowTo('#auditChannel', 'push');
    await tabTo('#auditOutcome');
    await page.keyboard.type('reported');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /^Records \(3\)/.test(document.getElementById('resultsTitle')?.textContent ?? ''));
    await tabTo('button[aria-label="Timeline of pushuser1"]');
    await press('Enter');
    await page.waitForSelector('#timeline');
    assert.equal((await focus()).id, 'resultsTitle', 'the focus moved to the timeline');
    assert.equal(await page.textContent('#resultsTitle'), 'Timeline of pushuser1');
  });

  test('keyboard: Insights — the range changed with arrow keys redraws the charts, a chart’s data opened; the theme button; System refreshed', async () => {
    await navTo('insights', '#insightsBody[data-shown]');
    await tabTo('#insightsTenant');
    await arrowTo('#insightsTenant', run.seeded.tenantId);
    await page.waitForSelector(`#insightsBody[data-shown="24h ${run.seeded.tenantId}"]`);
    await tabTo('#insightsRange');
    for (const [key, range, step] of [['ArrowDown', '7d', 1], ['ArrowDown', '30d', 6], ['ArrowUp', '7d', 1], ['ArrowUp', '24h', 1]] as const) {
      await press(key);
      await page.waitForSelector(`#insightsBody[data-shown="${range} ${run.seeded.tenantId}"]`);
      assert.match((await page.textContent('#totalsTitle')) ?? '', new RegExp(`buckets of ${step} h\\)$`), range);
      assert.equal((await focus()).id, 'insightsRange', 'the focus stays on the range');
    }
    await tabTo('#chartFailures summary');
    await press('Enter');
    assert.equal(await page.$eval('#chartFailures details', (d) => (d as HTMLDetailsElement).open), true);
    await tabTo('#theme', { back: true });
    for (const theme of ['light', 'dark', 'auto']) {
      await press('Enter');
      assert.equal(await page.textContent('#theme'), `Theme: ${theme}`);
    }

    await navTo('system', '#readModels table');
    await tabTo('#systemRefresh');
    await press('Enter');
    await page.waitForSelector('#readModels table');
    await until('the focus back on Refresh', async () => (await focus('#systemRefresh')).selector);
  });

  test('axe-core: no WCAG 2.0/2.1 A or AA violation (colour contrast included) on any page, light and dark, at 1280x800 and 390 px', async (t) => {
    const started = performance.now();
    // axe-core from npm, evaluated in the page through the DevTools protocol (page.evaluate), which
    // the page's strict CSP does not govern: no inline script or foreign origin is allowed for it.
    const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const tenantId = run.seeded.tenantId;
    const views: [name: string, hash: string, ready: string, prepare?: () => Promise<void>][] = [
      ['tenants', '#/tenants', '#tenantsTitle'],
      ['tenant', `#/tenants/${tenantId}`, '#settingsForm'],
      ['confirm', `#/tenants/${tenantId}`, '#keys', async () => {
        await page.click('#keys button.danger');
        await page.waitForSelector('#confirmDialog[open]');
      }],
      ['webhooks', '#/webhooks', '#deliveries table', async () => {
        await page.selectOption('#tenantPick', run.hooked.tenantId);
        await page.waitForSelector('tr[data-status] button[aria-label^="Attempts"]');
        await page.click('tr[data-status] button[aria-label^="Attempts"]');
        await page.waitForSelector('tr.detail table');
      }],
      ['audit', '#/audit', '#auditResults table', async () => {
        await page.selectOption('#tenantPick', tenantId);
        await page.waitForSelector('#auditResults table');
      }],
      ['timeline', '#/audit', '#auditResults', async () => {
        await page.selectOption('#tenantPick', tenantId);
        await page.fill('#auditUser', 'pushuser1');
        await page.click('#auditForm button[type="submit"]');
        await page.waitForSelector('#timeline');
      }],
      ['insights', '#/insights', '#chartFailures[data-drawn="true"]', async () => {
        for (const id of ['chartFailures', 'chartCountries']) await page.click(`#${id} summary`);
      }],
      ['system', '#/system', '#readModels table'],
    ];
    const found: string[] = [];
    let checks = 0;
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
        await page.setViewportSize(viewport);
        for (const [name, hash, ready, prepare] of views) {
          await page.keyboard.press('Escape'); // no dialog left open from the view before
          await run.go(hash, ready);
          await prepare?.();
          const violations = await axe(axeSource);
          checks++;
          for (const v of violations) found.push(`${colorScheme} ${viewport.width}px ${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.join(' | ')}`);
          if (viewport.width === 1280) await run.shot(`a11y-${colorScheme}-${name}`);
        }
      }
    }
    // The sign-in page, both schemes.
    await page.keyboard.press('Escape');
    await page.click('#signOut');
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      for (const v of await axe(axeSource)) found.push(`${colorScheme} sign-in: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.join(' | ')}`);
      checks++;
      await run.shot(`a11y-${colorScheme}-sign-in`);
    }
    await page.emulateMedia({ colorScheme: null });
    await page.setViewportSize({ width: 1280, height: 800 });
    t.diagnostic(`${checks} pages checked by axe-core in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(checks, 2 * 2 * views.length + 2);
    assert.deepEqual(found, []);
    await run.signIn();
  });

  /** Runs axe-core's WCAG 2.0/2.1 A and AA rules on the page; its violations with their elements. */
  const axe = async (source: string) => {
    if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(source);
    return page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ passes: { id: string }[]; violations: { id: string; impact: string; help: string; nodes: { target: string[]; failureSummary: string }[] }[] }> } }).axe;
      const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
      const violations = r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')} — ${n.failureSummary.replace(/\s+/g, ' ')}`) }));
      // Not vacuous: the contrast rule found text to measure.
      if (!r.passes.some((p) => p.id === 'color-contrast')) violations.push({ id: 'color-contrast', impact: 'none', help: 'the contrast rule measured nothing', nodes: [] });
      return violations;
    });
  };

  test('the page logged no error or CSP violation, and the server refused nothing', () => {
    assert.deepEqual(run.refusals, []);
    assert.deepEqual(run.problems, []);
  });
});
