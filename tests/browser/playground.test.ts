/**
 * The card playground in a real browser: playwright-core driving Debian's chromium (/usr/bin/chromium; `.ci/run`
 * installs it through apt; never `playwright install`). The real app listens on an ephemeral port with
 * AUTH_MODE=required, so every call the page makes carries a JWT it had minted for exactly that URL.
 *
 * Without /usr/bin/chromium the suite FAILS in CI (CI set) and is skipped with a warning elsewhere.
 * Screenshots go to test-results/browser/ (gitignored); UPDATE_SCREENSHOTS=1 also refreshes docs/images/.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApp, type AppHandle } from '../../src/app.js';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { HAVE_CHROMIUM, launchChromium, requireChromiumInCi } from '../helpers/chromium.js';

const OUT = path.join(PROJECT_ROOT, 'test-results', 'browser');
const DOCS_IMAGES = path.join(PROJECT_ROOT, 'docs', 'images');
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';

requireChromiumInCi();

describe.skipIf(!HAVE_CHROMIUM)('card playground in Chromium', { timeout: 30_000 }, () => {
  let server: Server;
  let handle: AppHandle;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    // Listen first: PUBLIC_BASE_URL must name the real port, or the JWT audience check fails.
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    handle = await createApp(testConfig({ AUTH_MODE: 'required', PLAYGROUND: 'on', PUBLIC_BASE_URL: base }));
    server.on('request', handle.app);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await handle?.close();
  });

  /** A fresh context; any request off this origin is blocked and recorded, and page errors are collected. */
  async function open(viewport: { width: number; height: number }, options: { mobile?: boolean } = {}) {
    const context: BrowserContext = await browser.newContext({ viewport, ...(options.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
    const external: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${base}/`)) return route.continue();
      external.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000); // shorter than the test's, so a stuck step reports what it waited for
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${base}/`);
    await page.waitForSelector('body[data-ready="true"]');
    return { context, page, errors, external };
  }

  async function runScenario(page: Page, label: string) {
    await page.selectOption('#scenario', { label });
    await page.click('#run');
    // Polled from here (a string predicate would be eval'd in the page, which the page's CSP rightly refuses).
    await expect.poll(async () => `${await page.locator('#cards').getAttribute('aria-busy')} ${await page.locator('#cards-status').innerText()}`).toMatch(/^false (\d+ cards?:|No cards|Error)/);
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(OUT, name) });
  const analytics = async (ruleId: string) => (await handle.storage.analytics({})).find((r) => r.ruleId === ruleId);

  test('LDN + oxycodone: critical card, accept its suggestion, then dismiss another card with a reason; feedback is stored', async () => {
    const { context, page, errors, external } = await open({ width: 1280, height: 800 });
    await runScenario(page, 'LDN + oxycodone (order-select)');

    const critical = page.locator('article.card[data-indicator="critical"]');
    await expect.poll(() => critical.isVisible()).toBe(true);
    expect(await critical.locator('.badge').innerText()).toContain('Critical');
    expect(await critical.locator('.badge svg').count()).toBe(1);
    expect(await critical.locator('.card__detail strong').first().innerText()).toBe('Opioid now.');
    expect(await critical.locator('.card__detail li').count()).toBeGreaterThan(2);
    expect(await page.locator('#cards-status').innerText()).toMatch(/2 cards: 1 critical, 1 warning/);
    expect(await page.locator('#orders').innerText()).toContain('Naltrexone 1.5 mg capsule (compounded)');
    for (const link of await critical.locator('a').all()) {
      expect(await link.getAttribute('href')).toMatch(/^https?:\/\//);
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    }
    await shot(page, 'ldn-oxycodone-cards.png');
    await critical.screenshot({ path: path.join(OUT, 'critical-card.png') });
    if (UPDATE_SCREENSHOTS) {
      mkdirSync(DOCS_IMAGES, { recursive: true });
      await page.screenshot({ path: path.join(DOCS_IMAGES, 'playground.png') });
      await critical.screenshot({ path: path.join(DOCS_IMAGES, 'card.png') });
    }

    // Accept: the draft order goes, feedback is posted, the hook re-runs (no draft left, so no call and no card).
    await critical.locator('button.suggestion').click();
    await page.waitForSelector('#feedback-log li[data-outcome="accepted"]');
    expect(await page.locator('#feedback-log li[data-outcome="accepted"]').getAttribute('data-status')).toBe('200');
    await expect.poll(() => page.locator('#orders').innerText()).toContain('No draft orders.');
    await expect.poll(() => page.locator('#cards-status').innerText()).toMatch(/No draft order left/);
    expect(await page.locator('article.card').count()).toBe(0);
    expect(await analytics('ldn-with-opioid')).toMatchObject({ accepted: 1 });
    await shot(page, 'ldn-oxycodone-accepted.png');

    // Reset the scenario, call again, dismiss the interferon-beta warning with a reason.
    await page.click('#reset');
    await page.click('#run');
    const warning = page.locator('article.card[data-indicator="warning"]');
    await expect.poll(() => warning.isVisible()).toBe(true);
    expect(await warning.locator('.badge').innerText()).toContain('Warning');
    await warning.locator('select.reason').selectOption({ label: 'Will monitor the patient' });
    await warning.locator('button.dismiss').click();
    await page.waitForSelector('#feedback-log li[data-outcome="overridden"]');
    expect(await page.locator('#feedback-log li[data-outcome="overridden"]').getAttribute('data-status')).toBe('200');
    await expect.poll(() => warning.count()).toBe(0);
    expect(await analytics('ldn-with-interferon-beta')).toMatchObject({ overridden: 1, overriddenByReason: { 'will-monitor': 1 } });

    // The raw exchange is there for integrators.
    await page.click('#raw-request summary');
    expect(await page.locator('#request-json').innerText()).toContain('"hook": "order-select"');
    await page.click('#raw-feedback summary');
    expect(await page.locator('#feedback-json').innerText()).toContain('"outcome": "overridden"');
    expect(await page.locator('#request-line').innerText()).toContain(`aud ${base}/cds-services/ldn-order-select`);
    await shot(page, 'ldn-oxycodone-dismissed.png');

    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    await context.close();
  });

  test('MS spasticity, keyboard only: Tab to the call button and the 3 mg suggestion, Enter; the order shows 3 mg', async () => {
    const { context, page, errors } = await open({ width: 1280, height: 800 });
    await page.selectOption('#scenario', { label: 'LDN 4.5 mg + MS spasticity (order-select)' });
    expect(await page.locator('#orders [data-fact="dose"]').innerText()).toBe('4.5 mg');

    // Page-side code is passed as strings: it runs in the browser (and this project typechecks without the DOM lib).
    const focusedId = () => page.evaluate<string>(`document.activeElement?.id ?? ''`);
    await page.focus('#scenario');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('hook');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('run');
    await page.keyboard.press('Enter');
    const warning = page.locator('article.card[data-indicator="warning"]');
    await expect.poll(() => warning.isVisible()).toBe(true);

    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate<boolean>(`document.activeElement?.matches('article.card button.suggestion') === true`);
    }
    expect(found, 'Tab reaches the suggestion button').toBe(true);
    expect(await page.evaluate<string>(`document.activeElement?.textContent ?? ''`)).toMatch(/to 3 mg once daily at bedtime/);
    const ring = await page.evaluate<{ style: string; width: number }>(
      `(() => { const s = getComputedStyle(document.activeElement); return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) }; })()`,
    );
    expect(ring.style).not.toBe('none');
    expect(ring.width).toBeGreaterThanOrEqual(2);
    await shot(page, 'spasticity-keyboard-focus.png');
    await page.keyboard.press('Enter');

    await expect.poll(() => page.locator('#orders [data-fact="dose"]').innerText()).toBe('3 mg');
    expect(await page.locator('#orders').innerText()).toContain('Naltrexone 3 mg capsule (compounded)');
    await page.waitForSelector('#feedback-log li[data-outcome="accepted"][data-status="200"]');
    // Re-run as an EHR would: at 3 mg the service answers with the info card; focus is not lost.
    await expect.poll(() => page.locator('article.card[data-indicator="info"]').count()).toBe(1);
    expect(await focusedId()).toBe('cards-heading');
    expect(await analytics('ldn-ms-spasticity-dose')).toMatchObject({ accepted: 1 });
    await shot(page, 'spasticity-3mg.png');
    expect(errors).toEqual([]);
    await context.close();
  });

  test('phone width (375 px): readable without horizontal scrolling', async () => {
    const { context, page, errors } = await open({ width: 375, height: 812 }, { mobile: true });
    await runScenario(page, 'LDN + oxycodone (order-select)');
    // A page wider than the screen makes a phone zoom out (innerWidth grows), so compare with the 375 px asked for.
    const widths = () => page.evaluate<{ scroll: number; viewport: number }>(`({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth })`);
    expect(await widths()).toEqual({ scroll: 375, viewport: 375 });
    await page.locator('#raw-request summary').click();
    await page.locator('#raw-response summary').click();
    expect(await widths(), 'the raw JSON scrolls inside its box, not the page').toEqual({ scroll: 375, viewport: 375 });
    const card = page.locator('article.card[data-indicator="critical"]');
    const box = (await card.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(375);
    await page.screenshot({ path: path.join(OUT, 'phone-375.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  test('a pasted hook request: the sandbox demo patient, her banner and four cards', async () => {
    const { context, page, errors } = await open({ width: 1280, height: 800 });
    const fixture = readFileSync(path.join(PROJECT_ROOT, 'fixtures/requests/order-select-ldn-oxycodone.json'), 'utf8');
    await page.click('.paste summary');
    await page.fill('#paste-input', '{ not json');
    await page.click('#paste-apply');
    expect(await page.locator('#paste-error').innerText()).toMatch(/Not valid JSON/);
    await page.fill('#paste-input', fixture);
    await page.click('#paste-apply');
    expect(await page.locator('#patient-banner').innerText()).toContain('Alex Rivera');
    await page.click('#run');
    await expect.poll(() => page.locator('article.card').count()).toBe(4);
    expect(await page.locator('article.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-indicator')))).toEqual(['critical', 'warning', 'warning', 'info']);
    await shot(page, 'pasted-request.png');
    expect(errors).toEqual([]);
    await context.close();
  });

  test('AUTH_MODE=off: the same page calls without tokens', async () => {
    const offServer = createServer();
    await new Promise<void>((resolve) => offServer.listen(0, '127.0.0.1', resolve));
    const offBase = `http://127.0.0.1:${(offServer.address() as AddressInfo).port}`;
    const off = await createApp(testConfig({ AUTH_MODE: 'off', PLAYGROUND: 'on', PUBLIC_BASE_URL: offBase }));
    offServer.on('request', off.app);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const tokenCalls: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/playground/token') || r.headers().authorization) tokenCalls.push(r.url());
      });
      await page.goto(`${offBase}/`);
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.locator('#auth-mode').innerText()).toMatch(/off/);
      await runScenario(page, 'LDN + oxycodone (order-select)');
      await page.locator('article.card[data-indicator="critical"] button.suggestion').click();
      await page.waitForSelector('#feedback-log li[data-outcome="accepted"][data-status="200"]');
      expect(tokenCalls).toEqual([]);
      expect((await off.storage.analytics({})).find((r) => r.ruleId === 'ldn-with-opioid')).toMatchObject({ accepted: 1 });
    } finally {
      await context.close();
      await new Promise((resolve) => offServer.close(resolve));
      await off.close();
    }
  });

  const focusedId = (page: Page) => page.evaluate<string>(`document.activeElement?.id ?? ''`);
  const indicators = (page: Page) => page.locator('article.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-indicator')));

  test('editing the chart: adding an opioid to an LDN patient brings the critical card; removing it takes it away', async () => {
    const { context, page, errors, external } = await open({ width: 1280, height: 800 });
    await runScenario(page, 'LDN 1.5 mg alone (no card) (order-select)');
    expect(await page.locator('article.card').count()).toBe(0);

    await page.click('#add-medication');
    await page.fill('#med-name', 'Oxycodone Hydrochloride 5 MG Oral Tablet');
    await page.fill('#med-code', 'rxnorm:1049621');
    await page.fill('#med-dose', '5 mg');
    await page.selectOption('#med-status', 'active');
    await page.fill('#med-start', '2026-10-01');
    await page.click('#medication-editor button[type="submit"]');
    await expect.poll(() => indicators(page)).toEqual(['critical']);
    expect(await page.locator('#medications').innerText()).toContain('Oxycodone Hydrochloride 5 MG Oral Tablet');
    expect(await page.locator('#medications').innerText()).toContain('Added in the playground');
    // What was sent is what the chart shows.
    expect(await page.locator('#request-json').textContent()).toContain('"code": "1049621"');

    // Edit: the opioid was stopped long ago → no current opioid, so no critical card.
    await page.locator('#medications li', { hasText: 'Oxycodone' }).locator('button.edit').click();
    expect(await page.inputValue('#med-code')).toBe('rxnorm:1049621');
    await page.selectOption('#med-status', 'completed');
    await page.fill('#med-start', '2025-01-01');
    await page.fill('#med-end', '2025-02-01');
    await page.click('#medication-editor button[type="submit"]');
    await expect.poll(() => indicators(page)).toEqual([]);

    // A bad value is explained and nothing changes.
    await page.locator('#medications li', { hasText: 'Oxycodone' }).locator('button.edit').click();
    await page.fill('#med-dose', 'lots');
    await page.click('#medication-editor button[type="submit"]');
    expect(await page.locator('#medication-editor-error').innerText()).toMatch(/Dose "lots"/);
    await page.click('#medication-editor button.cancel');

    await page.locator('#medications li', { hasText: 'Oxycodone' }).locator('button.remove').click();
    await expect.poll(() => page.locator('#medications').innerText()).not.toContain('Oxycodone');

    // Conditions too: MS + spasticity added to a 4.5 mg first order turns the dosing info into the spasticity warning.
    await runScenario(page, 'First LDN order at 4.5 mg (order-select)');
    expect(await indicators(page)).toEqual(['info']);
    for (const [name, code] of [['Multiple sclerosis', 'snomed:24700007'], ['Spasticity', 'snomed:221360009']]) {
      await page.click('#add-condition');
      await page.fill('#cond-name', name!);
      await page.fill('#cond-code', code!);
      await page.click('#condition-editor button[type="submit"]');
      await expect.poll(() => page.locator('#conditions').innerText()).toContain(name!);
    }
    await expect.poll(() => page.locator('article.card[data-indicator="warning"]').count()).toBe(1);
    await shot(page, 'chart-edited.png');
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    await context.close();
  });

  test('keyboard only: add a medication with the editor, Enter saves, focus lands on the new entry', async () => {
    const { context, page, errors } = await open({ width: 1280, height: 800 });
    await page.selectOption('#scenario', { label: 'LDN 1.5 mg alone (no card) (order-select)' });
    await page.focus('#add-medication');
    await page.keyboard.press('Enter');
    expect(await focusedId(page)).toBe('med-name');
    await page.keyboard.type('Oxycodone Hydrochloride 5 MG Oral Tablet');
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('med-code');
    await page.keyboard.type('rxnorm:1049621');
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('med-dose');
    await page.keyboard.type('5 mg');
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('med-status'); // a native select: arrow keys choose, "active" is the default
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter'); // Enter in a text field submits the form
    await expect.poll(() => page.locator('article.card[data-indicator="critical"]').count()).toBe(1);
    const focused = await page.evaluate<string>(`document.activeElement?.getAttribute('aria-label') ?? ''`);
    expect(focused).toBe('Edit Oxycodone Hydrochloride 5 MG Oral Tablet');
    // Escape closes an open editor and returns focus to what opened it.
    await page.keyboard.press('Enter');
    expect(await focusedId(page)).toBe('med-name');
    await page.keyboard.press('Escape');
    expect(await page.locator('#medication-editor').isHidden()).toBe(true);
    expect(await page.evaluate<string>(`document.activeElement?.getAttribute('aria-label') ?? ''`)).toBe('Edit Oxycodone Hydrochloride 5 MG Oral Tablet');
    expect(errors).toEqual([]);
    await context.close();
  });

  test('a dismissal in one scenario leaves other scenarios alone; the held-back card is reported; the reset brings it back', async () => {
    const { context, page, errors } = await open({ width: 1280, height: 800 });
    expect(await page.locator('#reset-suppressions').isVisible()).toBe(true);
    await page.click('#reset-suppressions'); // start clean whatever earlier tests dismissed
    await expect.poll(() => page.locator('#cards-status').innerText()).toMatch(/cleared|card/);
    await runScenario(page, 'LDN + oxycodone (order-select)');
    expect(await indicators(page)).toEqual(['critical', 'warning']);
    const warning = page.locator('article.card[data-indicator="warning"]');
    await warning.locator('select.reason').selectOption({ label: 'Will monitor the patient' });
    await warning.locator('button.dismiss').click();
    await page.waitForSelector('#feedback-log li[data-outcome="overridden"][data-status="200"]');

    // Another scenario with the same interferon-beta rule: its warning still shows.
    await runScenario(page, 'LDN order with text-only Avonex (as the sandbox fixture sends it) → warning (order-select)');
    expect(await indicators(page)).toEqual(['warning']);
    expect(await page.locator('.cards__suppressed').count()).toBe(0);

    // Back in the first: the warning is held back, and the page says so.
    await runScenario(page, 'LDN + oxycodone (order-select)');
    expect(await indicators(page)).toEqual(['critical']);
    expect(await page.locator('.cards__suppressed').getAttribute('data-suppressed')).toBe('1');
    expect(await page.locator('#cards-status').innerText()).toMatch(/1 card: 1 critical\. 1 card held back \(acknowledged in an earlier override/);
    expect(await page.locator('#cards-status').innerText()).not.toMatch(/nothing to say/);
    await shot(page, 'suppressed-reported.png');

    await page.click('#reset-suppressions');
    await expect.poll(() => indicators(page)).toEqual(['critical', 'warning']);
    expect(await page.locator('.cards__suppressed').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('phone (390 px): the cards start right below the Call button', async () => {
    const { context, page, errors } = await open({ width: 390, height: 844 }, { mobile: true });
    await runScenario(page, 'LDN + oxycodone (order-select)');
    const run = (await page.locator('#run').boundingBox())!;
    const cards = (await page.locator('#cards-heading').boundingBox())!;
    expect(cards.y - (run.y + run.height), 'distance from the Call button to the Cards heading').toBeLessThan(300);
    expect(cards.y).toBeGreaterThan(run.y);
    expect(errors).toEqual([]);
    await context.close();
  });

  describe('axe-core: no serious or critical violations', () => {
    const AXE = path.join(PROJECT_ROOT, 'node_modules', 'axe-core', 'axe.min.js');
    type Violation = { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] };

    async function violations(url: string, viewport: { width: number; height: number }, prepare?: (page: Page) => Promise<void>): Promise<string[]> {
      // bypassCSP: axe is injected as an inline script, which the pages' CSP (rightly) refuses.
      const context = await browser.newContext({ viewport, bypassCSP: true });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(10_000);
        await page.goto(url);
        if (prepare) await prepare(page);
        await page.addScriptTag({ path: AXE });
        const found = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`)) as Violation[];
        return found.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
      } finally {
        await context.close();
      }
    }

    const playgroundWithCards = async (page: Page) => {
      await page.waitForSelector('body[data-ready="true"]');
      await runScenario(page, 'LDN + oxycodone (order-select)');
      await page.click('#add-medication'); // the editor open too
      for (const id of ['#raw-request', '#raw-response']) await page.click(`${id} summary`);
    };

    for (const width of [1280, 390]) {
      test(`playground at ${width} px`, async () => {
        expect(await violations(`${base}/`, { width, height: 900 }, playgroundWithCards)).toEqual([]);
      });
      test(`evidence pages at ${width} px`, async () => {
        expect(await violations(`${base}/evidence`, { width, height: 900 })).toEqual([]);
        expect(await violations(`${base}/evidence/ldn-with-opioid`, { width, height: 900 })).toEqual([]);
      });
    }
  });

  test('card text cannot run script: markdown renders hostile HTML as text, and the CSP blocks inline script', async () => {
    const { context, page, errors } = await open({ width: 1280, height: 800 });
    // A string, not a function: vitest would rewrite a function's dynamic import() before it reaches the page.
    const result = (await page.evaluate(`(async () => {
      const { renderMarkdown } = await import('./playground/markdown.js');
      const host = document.createElement('div');
      host.id = 'hostile';
      host.appendChild(renderMarkdown('<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> [x](javascript:window.__pwned=3) **<b onmouseover="window.__pwned=4">b</b>**'));
      document.body.appendChild(host);
      const inline = document.createElement('script');
      inline.textContent = 'window.__inline = 1';
      document.body.appendChild(inline);
      await new Promise((r) => setTimeout(r, 200));
      return {
        pwned: window.__pwned ?? null,
        inline: window.__inline ?? null,
        elements: [...host.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
        text: host.textContent,
      };
    })()`)) as { pwned: unknown; inline: unknown; elements: string[]; text: string };
    expect(result.pwned).toBeNull();
    expect(result.inline).toBeNull();
    expect(result.elements).toEqual(['p', 'strong']);
    expect(result.text).toContain('<script>window.__pwned=2</script>');
    // The only console error is the CSP refusing the inline script.
    expect(errors.every((e) => /Content Security Policy/.test(e)), errors.join('\n')).toBe(true);
    expect(errors.length).toBeGreaterThan(0);
    await context.close();
  });
});
