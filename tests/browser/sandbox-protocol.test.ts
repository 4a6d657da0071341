/**
 * The CDS Hooks protocol played in a real browser the way the CDS Hooks Sandbox plays it (issue 18), against the
 * real service: playwright-core driving Debian's chromium (/usr/bin/chromium; never `playwright install`).
 *
 * The page is a small static HTML page of this test (not the sandbox's code), served from another origin than
 * the service, so every call is a real cross-origin request with its CORS preflight. In the browser it:
 *  - reads discovery into a Map keyed by discovery URL + id (a later entry with the same id replaces an earlier
 *    one, as in the sandbox), and calls, for each hook, the entry whose `hook` matches;
 *  - fires patient-view on load, order-select when a drug is selected, order-sign on "Sign";
 *  - fills every prefetch template from its own chart (by resource type), as a client does;
 *  - posts feedback: `accepted` (with the suggestion's uuid) on a suggestion, `overridden` on dismiss.
 * The service runs in-process on a loopback port with AUTH_MODE=off (the page signs no JWT; JWTs from the
 * sandbox are covered by tests/security/sandbox-captures.test.ts).
 *
 * Without /usr/bin/chromium the suite FAILS in CI (CI set) and is skipped with a warning elsewhere.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { createApp, type AppHandle } from '../../src/app.js';
import { testConfig } from '../../src/config/index.js';
import { HAVE_CHROMIUM, launchChromium, requireChromiumInCi } from '../helpers/chromium.js';


requireChromiumInCi();

const PATIENT = 'sbx-1';
const subject = { reference: `Patient/${PATIENT}` };
/** The chart the page holds: LDN and oxycodone taken now, MS with spasticity. */
const CHART = [
  { resourceType: 'Patient', id: PATIENT, gender: 'female', birthDate: '1980-05-17' },
  { resourceType: 'MedicationStatement', id: 'ldn', status: 'active', subject, medicationCodeableConcept: { text: 'Naltrexone 4.5 mg capsule (compounded)' }, dosage: [{ text: '4.5 mg at bedtime' }] },
  {
    resourceType: 'MedicationStatement',
    id: 'oxy',
    status: 'active',
    subject,
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1049621', display: 'Oxycodone Hydrochloride 5 MG Oral Tablet' }] },
  },
  { resourceType: 'Condition', id: 'ms', subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '24700007' }], text: 'Multiple sclerosis' } },
  { resourceType: 'Condition', id: 'spas', subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '221360009' }], text: 'Spasticity' } },
];

function page(serviceBase: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>protocol client</title></head><body>
<select id="drug"><option value="">choose a drug</option><option value="1483744">Naltrexone hydrochloride 50 MG Oral Tablet</option></select>
<button id="sign">Sign order</button><ol id="cards"></ol><ol id="log"></ol>
<script type="module">
const DISCOVERY = ${JSON.stringify(`${serviceBase}/cds-services`)};
const PATIENT = ${JSON.stringify(PATIENT)};
const CHART = ${JSON.stringify(CHART)};
const log = (line) => { const li = document.createElement('li'); li.textContent = line; document.getElementById('log').append(li); };
const uuid = () => crypto.randomUUID();
/** As the sandbox: one entry per discovery URL + id; a later entry with the same id replaces the earlier one. */
const services = new Map();
const res = await fetch(DISCOVERY, { headers: { accept: 'application/json' } });
const listed = (await res.json()).services;
for (const s of listed) services.set(DISCOVERY + '/' + s.id, s);
document.body.dataset.listed = String(listed.length);
document.body.dataset.kept = String(services.size);
/** Each template filled from the chart by resource type: a read gives the resource, a search a searchset. */
function prefetchFor(service) {
  const out = {};
  for (const [key, template] of Object.entries(service.prefetch ?? {})) {
    const [type, query] = template.replace('{{context.patientId}}', PATIENT).split('?');
    if (!query) { out[key] = CHART.find((r) => type === r.resourceType + '/' + r.id) ?? null; continue; }
    const found = CHART.filter((r) => r.resourceType === type);
    out[key] = { resourceType: 'Bundle', type: 'searchset', total: found.length, entry: found.map((resource) => ({ resource })) };
  }
  return out;
}
let draft = { resourceType: 'MedicationRequest', id: 'request-123', status: 'draft', subject: { reference: 'Patient/' + PATIENT } };
async function fire(hook, context) {
  const service = [...services.values()].find((s) => s.hook === hook);
  if (!service) { log(hook + ' no-service'); return; }
  const body = { hookInstance: uuid(), hook, fhirServer: 'http://127.0.0.1:9/fhir', context: { userId: 'Practitioner/COREPRACTITIONER1', patientId: PATIENT, ...context }, prefetch: prefetchFor(service) };
  const r = await fetch(DISCOVERY + '/' + service.id, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
  const answer = await r.json();
  log(hook + ' ' + service.id + ' ' + r.status + ' ' + (answer.cards ?? []).length);
  show(hook, service, answer.cards ?? []);
}
function show(hook, service, cards) {
  for (const old of document.querySelectorAll('#cards li[data-hook="' + hook + '"]')) old.remove();
  for (const card of cards) {
    const li = document.createElement('li');
    Object.assign(li.dataset, { hook, indicator: card.indicator, uuid: card.uuid });
    li.append(card.summary);
    for (const s of card.suggestions ?? []) {
      const b = document.createElement('button'); b.className = 'accept'; b.textContent = s.label;
      b.onclick = () => feedback(service, { card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: s.uuid }], outcomeTimestamp: new Date().toISOString() }, li);
      li.append(b);
    }
    const d = document.createElement('button'); d.className = 'dismiss'; d.textContent = 'Dismiss';
    d.onclick = () => feedback(service, { card: card.uuid, outcome: 'overridden', outcomeTimestamp: new Date().toISOString() }, li);
    li.append(d);
    document.getElementById('cards').append(li);
  }
}
async function feedback(service, item, li) {
  const r = await fetch(DISCOVERY + '/' + service.id + '/feedback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ feedback: [item] }) });
  log('feedback ' + service.id + ' ' + item.outcome + ' ' + r.status);
  li.dataset.feedback = String(r.status);
}
const bundle = () => ({ resourceType: 'Bundle', entry: [{ resource: draft }] });
document.getElementById('drug').onchange = (e) => {
  const option = e.target.selectedOptions[0];
  draft = { ...draft, intent: 'order', medicationCodeableConcept: { text: option.textContent, coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: option.value, display: option.textContent }] },
    dosageInstruction: [{ timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: '{pill}' } }] }] };
  fire('order-select', { selections: ['MedicationRequest/request-123'], draftOrders: bundle() });
};
document.getElementById('sign').onclick = () => fire('order-sign', { draftOrders: bundle() });
await fire('patient-view', {});
document.body.dataset.ready = 'true';
</script></body></html>`;
}

describe.skipIf(!HAVE_CHROMIUM)('the CDS Hooks protocol in Chromium, as the sandbox plays it', { timeout: 30_000 }, () => {
  let service: Server;
  let client: Server;
  let handle: AppHandle;
  let browser: Browser;
  let clientBase: string;
  /** Every request that reached the service: method, path and Origin. */
  const seen: { method: string; path: string; origin?: string }[] = [];

  beforeAll(async () => {
    service = createServer();
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const serviceBase = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    handle = await createApp(testConfig({ PUBLIC_BASE_URL: serviceBase, CORS_ORIGINS: '*', PLAYGROUND: 'off' }));
    service.on('request', (req: IncomingMessage, res) => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', ...(req.headers.origin ? { origin: req.headers.origin } : {}) });
      handle.app(req, res);
    });
    const html = page(serviceBase);
    client = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
    await new Promise<void>((resolve) => client.listen(0, '127.0.0.1', resolve));
    clientBase = `http://127.0.0.1:${(client.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => client?.close(resolve));
    await new Promise((resolve) => service?.close(resolve));
    await handle?.close();
  });

  test('discovery keeps one entry per id; patient-view, order-select and order-sign each get cards; accept and dismiss are stored', async () => {
    const context = await browser.newContext();
    const p = await context.newPage();
    p.setDefaultTimeout(10_000);
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`${clientBase}/`);
    await p.waitForSelector('body[data-ready="true"]');

    // No discovery entry was lost to another with the same id.
    const listed = await p.locator('body').getAttribute('data-listed');
    const kept = await p.locator('body').getAttribute('data-kept');
    expect(Number(listed)).toBeGreaterThanOrEqual(3);
    expect(kept).toBe(listed);

    // patient-view on load: LDN with a current opioid.
    await p.waitForSelector('#cards li[data-hook="patient-view"][data-indicator="critical"]');

    // order-select on choosing the drug (the 50 mg tablet, the only oral naltrexone the sandbox offers).
    await p.selectOption('#drug', '1483744');
    await p.waitForSelector('#cards li[data-hook="order-select"]');
    const selectCards = await Promise.all((await p.locator('#cards li[data-hook="order-select"]').all()).map((li) => li.getAttribute('data-indicator')));
    expect(selectCards).toEqual(expect.arrayContaining(['critical', 'warning']));

    // order-sign on "Sign".
    await p.click('#sign');
    await p.waitForSelector('#cards li[data-hook="order-sign"]');

    // Accept the suggestion on the order-sign critical card; dismiss the patient-view card.
    await p.locator('#cards li[data-hook="order-sign"][data-indicator="critical"] button.accept').first().click();
    await p.locator('#cards li[data-hook="patient-view"] button.dismiss').first().click();
    await p.waitForSelector('#cards li[data-hook="order-sign"][data-feedback="200"]');
    await p.waitForSelector('#cards li[data-hook="patient-view"][data-feedback="200"]');

    const lines = await p.locator('#log li').allInnerTexts();
    expect(lines).toEqual([
      expect.stringMatching(/^patient-view ldn-patient-view 200 [1-9]/),
      expect.stringMatching(/^order-select ldn-order-select 200 [1-9]/),
      expect.stringMatching(/^order-sign ldn-order-sign 200 [1-9]/),
      'feedback ldn-order-sign accepted 200',
      'feedback ldn-patient-view overridden 200',
    ]);
    expect(errors).toEqual([]);

    // Every call crossed origins and was preflighted, as from the sandbox.
    const posts = seen.filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.path)).toEqual([
      '/cds-services/ldn-patient-view',
      '/cds-services/ldn-order-select',
      '/cds-services/ldn-order-sign',
      '/cds-services/ldn-order-sign/feedback',
      '/cds-services/ldn-patient-view/feedback',
    ]);
    expect(posts.every((r) => r.origin === clientBase)).toBe(true);
    expect(seen.filter((r) => r.method === 'OPTIONS').length).toBeGreaterThanOrEqual(posts.length);

    // Both outcomes were stored against the rule that made the cards (both are ldn-with-opioid).
    const opioidRule = async () => (await handle.storage.analytics({})).find((r) => r.ruleId === 'ldn-with-opioid');
    await expect.poll(opioidRule).toMatchObject({ accepted: 1, overridden: 1 });
    await context.close();
  });
});
