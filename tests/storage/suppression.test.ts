/**
 * Suppression scenarios, positive and negative:
 *  - an override whose reason acknowledges the card holds the same rule back for the same patient and drug pair
 *    until it expires; critical cards still show unless the reason explicitly covers them;
 *  - an info card shown at order-select for a draft order is not repeated at order-sign for the same order;
 *    warnings are; both switches turn the behaviour off. The index survives a restart (loaded from the database).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Indicator } from '../../src/model/cards.js';
import { testConfig } from '../../src/config/index.js';
import { createStorage, type Storage, type StorageOptions } from '../../src/storage/index.js';
import { BACKENDS, REASON_SYSTEM, count, openStorage, silentLogger, testOptions, type TestDatabase } from './backends.js';
import { clientScope, type ClientScope } from '../../src/storage/scope.js';
import type { FeedbackClient } from '../../src/storage/index.js';
import { SERVICE, UNSCOPED, auditEntry, draft } from './harness.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const OXY = 'naltrexone+oxycodone';
const T0 = new Date(Date.now() - HOUR); // "now" of the first hook call; suppressions expire relative to it

interface Shown {
  ruleId?: string;
  indicator?: Indicator;
  patientHash?: string;
  drugKey?: string;
  hook?: string;
  orderKeys?: string[];
  shownAt?: Date;
  scope?: ClientScope;
}

const EHR_X = clientScope({ iss: 'https://ehr-x.example.org' }, 'https://fhir.ehr-x.example.org/r4');
const EHR_Y = clientScope({ iss: 'https://ehr-y.example.org' }, 'https://fhir.ehr-x.example.org/r4');

describe.each(BACKENDS)('suppression on $name', (backend) => {
  let db: TestDatabase;
  let storage: Storage;

  beforeEach(async () => {
    db = await backend.create();
    storage = await openStorage(db.config);
  });
  afterEach(async () => {
    await storage?.close();
    await db?.drop();
  });

  async function reopen(options: Partial<StorageOptions> = {}): Promise<void> {
    await storage.close();
    storage = await openStorage(db.config, { options });
    await storage.sync.warmed(); // the order-select window loads in the background after start
  }

  /** A card the service returned (audited); returns its uuid. */
  function show(s: Shown = {}): string {
    const cardUuid = randomUUID();
    storage.audit.recordCards([auditEntry({ cardUuid, ruleId: 'ldn-opioid', indicator: 'warning', patientHash: 'patient-a', drugKey: OXY, hook: 'patient-view', shownAt: T0, ...s })]);
    return cardUuid;
  }

  async function override(card: string, code?: string, opts: { system?: string; at?: Date; client?: FeedbackClient } = {}): Promise<void> {
    const reason = code ? { reason: { code, ...(opts.system !== undefined ? { system: opts.system } : { system: REASON_SYSTEM }) } } : undefined;
    await storage.feedback.save(SERVICE, [{ card, outcome: 'overridden', acceptedSuggestions: [], ...(reason ? { overrideReason: reason } : {}), outcomeTimestamp: opts.at ?? T0 }], opts.at ?? T0, opts.client ?? UNSCOPED);
  }

  /** Does the next hook call show this card? */
  function shows(c: Shown & { now?: Date } = {}): boolean {
    const candidate = { draft: draft(c.ruleId ?? 'ldn-opioid', c.indicator ?? 'warning'), drugKey: c.drugKey ?? OXY, orderKeys: c.orderKeys ?? [] };
    const kept = storage.suppression.filter([candidate], { serviceId: SERVICE, hook: c.hook ?? 'patient-view', patientHash: c.patientHash ?? 'patient-a', scope: c.scope ?? UNSCOPED, now: c.now ?? new Date(T0.getTime() + HOUR) });
    return kept.length === 1;
  }

  describe('acknowledged override', () => {
    it('holds the same rule back for the same patient and drug pair, and keeps other cards', async () => {
      await override(show(), 'aware-of-risk');
      expect(shows()).toBe(false);
      expect(shows({ indicator: 'info' })).toBe(false);
      expect(shows({ hook: 'order-sign' })).toBe(false);
      const candidates = [
        { draft: draft('ldn-opioid', 'warning'), drugKey: OXY, orderKeys: [] },
        { draft: draft('ldn-interferon', 'warning'), drugKey: 'interferon beta-1a+naltrexone', orderKeys: [] },
      ];
      const kept = storage.suppression.filter(candidates, { serviceId: SERVICE, hook: 'patient-view', patientHash: 'patient-a', scope: UNSCOPED, now: new Date(T0.getTime() + HOUR) });
      expect(kept).toEqual([candidates[1]]);
      expect(count(await db.query('select count(*) as n from suppression'))).toBe(1);
    });

    it('survives a restart: the index is loaded from the database', async () => {
      await override(show(), 'aware-of-risk');
      await reopen();
      expect(shows()).toBe(false);
      expect(shows({ patientHash: 'patient-b' })).toBe(true);
    });

    it('lasts the reason\'s suppressDays, then the card shows again', async () => {
      await override(show(), 'aware-of-risk'); // suppressDays: 7
      expect(shows({ now: new Date(T0.getTime() + 7 * DAY - 1000) })).toBe(false);
      expect(shows({ now: new Date(T0.getTime() + 7 * DAY + 1000) })).toBe(true);
    });

    it('lasts SUPPRESSION_DEFAULT_DAYS when the reason sets no suppressDays', async () => {
      await reopen({ suppressionDefaultDays: 2 });
      await override(show(), 'aware-default-days');
      expect(shows({ now: new Date(T0.getTime() + 2 * DAY - 1000) })).toBe(false);
      expect(shows({ now: new Date(T0.getTime() + 2 * DAY + 1000) })).toBe(true);
    });

    it('never holds back a critical card unless the reason explicitly covers critical cards', async () => {
      await override(show({ indicator: 'critical' }), 'aware-of-risk');
      expect(shows({ indicator: 'critical' })).toBe(true);
      expect(shows({ indicator: 'warning' })).toBe(false);

      await override(show({ indicator: 'critical', patientHash: 'patient-b' }), 'aware-including-critical');
      expect(shows({ indicator: 'critical', patientHash: 'patient-b' })).toBe(false);
    });

    it.each([
      ['a reason that does not acknowledge', 'not-relevant', {}],
      ['an override without a reason', undefined, {}],
      ['a reason code of another code system', 'aware-of-risk', { system: 'http://example.org/override' }],
      ['a reason code unknown to the catalogue', 'not-taking', {}],
    ])('does nothing after %s', async (_label, code, opts) => {
      await override(show(), code, opts);
      expect(shows()).toBe(true);
      expect(count(await db.query('select count(*) as n from suppression'))).toBe(0);
    });

    it('accepts a coded reason without system (the sandbox may omit it)', async () => {
      const card = show();
      await storage.feedback.save(SERVICE, [{ card, outcome: 'overridden', acceptedSuggestions: [], overrideReason: { reason: { code: 'aware-of-risk' } }, outcomeTimestamp: T0 }], T0, UNSCOPED);
      expect(shows()).toBe(false);
    });

    it('does nothing after an accepted card', async () => {
      const card = show();
      await storage.feedback.save(SERVICE, [{ card, outcome: 'accepted', acceptedSuggestions: [randomUUID()], outcomeTimestamp: T0 }], T0, UNSCOPED);
      expect(shows()).toBe(true);
    });

    it('holds back only the same patient, drug pair and rule', async () => {
      await override(show(), 'aware-of-risk');
      expect(shows({ patientHash: 'patient-b' })).toBe(true);
      expect(shows({ drugKey: 'morphine+naltrexone' })).toBe(true);
      expect(shows({ ruleId: 'ldn-opioid-high-dose' })).toBe(true);
    });

    it('cannot suppress from feedback on a card it never returned', async () => {
      await override(randomUUID(), 'aware-of-risk');
      expect(count(await db.query('select count(*) as n from suppression'))).toBe(0);
      expect(shows()).toBe(true);
    });

    it('is off with SUPPRESSION=off (the override is still recorded)', async () => {
      await reopen({ suppression: false });
      await override(show(), 'aware-of-risk');
      expect(shows()).toBe(true);
      expect(count(await db.query('select count(*) as n from suppression'))).toBe(1);
    });
  });

  describe('client scope (issuer, tenant, FHIR server)', () => {
    it("an override by one EHR never holds back another EHR's card for a patient with the same id", async () => {
      await override(show({ scope: EHR_X }), 'aware-of-risk', { client: EHR_X });
      expect(shows({ scope: EHR_X })).toBe(false);
      expect(shows({ scope: EHR_Y })).toBe(true);
      expect(shows({ scope: { ...EHR_X, tenant: 'clinic-2' } })).toBe(true);
      expect(shows({ scope: { ...EHR_X, fhirServer: 'https://other-fhir.example.org/r4' } })).toBe(true);
      expect(shows()).toBe(true); // AUTH_MODE=off calls have their own scope
      await reopen(); // loaded from the database with its scope
      expect(shows({ scope: EHR_X })).toBe(false);
      expect(shows({ scope: EHR_Y })).toBe(true);
    });

    it("feedback from another client on a card is stored without effect: no suppression for the card's client", async () => {
      const card = show({ scope: EHR_X });
      await override(card, 'aware-of-risk', { client: EHR_Y });
      expect(shows({ scope: EHR_X })).toBe(true);
      expect(count(await db.query('select count(*) as n from suppression'))).toBe(0);
      const [row] = await db.query<Record<string, unknown>>('select known_card, client_issuer from feedback');
      expect(row).toMatchObject({ client_issuer: EHR_Y.issuer });
      expect(Number(row!.known_card)).toBe(0);
      // The real client's identical feedback is not taken for a duplicate of the other's: it takes effect.
      await override(card, 'aware-of-risk', { client: EHR_X });
      expect(shows({ scope: EHR_X })).toBe(false);
    });

    it('records the issuer, tenant and FHIR server (origin and path only) in the audit row', async () => {
      const scope = clientScope({ iss: 'https://ehr-x.example.org', tenant: 't-1' }, 'https://user:secret@fhir.example.org/r4/?token=abc#x');
      const card = show({ scope });
      await storage.audit.flush();
      const [row] = await db.query<Record<string, unknown>>('select client_issuer, client_tenant, fhir_server from card_audit where card_uuid = ?', [card]);
      expect(row).toEqual({ client_issuer: 'https://ehr-x.example.org', client_tenant: 't-1', fhir_server: 'https://fhir.example.org/r4' });
    });

    it('coordinates order-select with order-sign only within one scope', async () => {
      show({ hook: 'order-select', indicator: 'info', orderKeys: ['order-1'], scope: EHR_X });
      expect(shows({ hook: 'order-sign', indicator: 'info', orderKeys: ['order-1'], scope: EHR_X })).toBe(false);
      expect(shows({ hook: 'order-sign', indicator: 'info', orderKeys: ['order-1'], scope: EHR_Y })).toBe(true);
      await storage.audit.flush();
      await reopen();
      expect(shows({ hook: 'order-sign', indicator: 'info', orderKeys: ['order-1'], scope: EHR_X })).toBe(false);
      expect(shows({ hook: 'order-sign', indicator: 'info', orderKeys: ['order-1'], scope: EHR_Y })).toBe(true);
    });
  });

  describe('order-select → order-sign coordination', () => {
    const ORDER_X = 'order-key-x';
    const signCall = (c: Shown & { now?: Date } = {}) => shows({ hook: 'order-sign', indicator: 'info', orderKeys: [ORDER_X], ...c });

    it('does not repeat at order-sign an info card already shown at order-select for the same order', () => {
      show({ hook: 'order-select', indicator: 'info', orderKeys: [ORDER_X] });
      expect(signCall()).toBe(false);
      expect(signCall({ orderKeys: ['order-key-other', ORDER_X] })).toBe(false);
    });

    it('remembers order-select cards across a restart (loaded from the audit log)', async () => {
      show({ hook: 'order-select', indicator: 'info', orderKeys: [ORDER_X] });
      await storage.audit.flush();
      await reopen();
      expect(signCall()).toBe(false);
    });

    it('picks up order-select cards from another replica on its next refresh (incremental, aggregated per order)', async () => {
      await reopen({ syncIntervalS: 1 });
      const replica = await openStorage(db.config);
      try {
        const now = new Date();
        // Three cards for the same order, written as a replica writes them (within moments of showing them).
        for (const secondsAgo of [3, 2, 1]) {
          replica.audit.recordCards([auditEntry({ cardUuid: randomUUID(), ruleId: 'ldn-opioid', indicator: 'info', patientHash: 'patient-a', hook: 'order-select', orderKeys: [ORDER_X], shownAt: new Date(now.getTime() - secondsAgo * 1000) })]);
        }
        await replica.audit.flush();
        expect(signCall({ now })).toBe(true); // this instance has not refreshed yet
        await expect.poll(() => signCall({ now }), { timeout: 10_000, interval: 200 }).toBe(false);
      } finally {
        await replica.close();
      }
    });

    it('still repeats warnings (and criticals) at order-sign', () => {
      show({ hook: 'order-select', indicator: 'warning', orderKeys: [ORDER_X] });
      expect(signCall({ indicator: 'warning' })).toBe(true);
      expect(signCall({ indicator: 'critical' })).toBe(true);
    });

    it('shows the card for another order, another patient or another rule', () => {
      show({ hook: 'order-select', indicator: 'info', orderKeys: [ORDER_X] });
      expect(signCall({ orderKeys: ['order-key-y'] })).toBe(true);
      expect(signCall({ patientHash: 'patient-b' })).toBe(true);
      expect(signCall({ ruleId: 'ldn-interferon' })).toBe(true);
    });

    it('only coordinates order-select with order-sign', () => {
      show({ hook: 'order-sign', indicator: 'info', orderKeys: [ORDER_X] });
      show({ hook: 'patient-view', indicator: 'info', orderKeys: [ORDER_X] });
      expect(signCall()).toBe(true);
      show({ hook: 'order-select', indicator: 'info', orderKeys: [ORDER_X] });
      expect(shows({ hook: 'order-select', indicator: 'info', orderKeys: [ORDER_X] })).toBe(true);
    });

    it('shows the card again once the window has passed', async () => {
      await reopen({ orderSignDedupWindowMin: 60 });
      show({ hook: 'order-select', indicator: 'info', orderKeys: [ORDER_X] });
      expect(signCall({ now: new Date(T0.getTime() + 59 * 60_000) })).toBe(false);
      expect(signCall({ now: new Date(T0.getTime() + 61 * 60_000) })).toBe(true);
    });

    it('is off with ORDER_SIGN_DEDUP=off', async () => {
      await reopen({ orderSignDedup: false });
      show({ hook: 'order-select', indicator: 'info', orderKeys: [ORDER_X] });
      expect(signCall()).toBe(true);
    });
  });

  it('reads acknowledging reasons from override-reasons.yaml in CDS_SERVICES_DIR by default', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ldn-cds-reasons-'));
    writeFileSync(
      path.join(dir, 'override-reasons.yaml'),
      [
        `system: ${REASON_SYSTEM}`,
        'local: true',
        'description: test reasons',
        'reasons:',
        '  - { code: risk-discussed, display: Risk discussed with patient, acknowledges: true, suppressDays: 3 }',
        '  - { code: not-taking, display: Patient not taking, acknowledges: false }',
      ].join('\n'),
    );
    await storage.close();
    storage = await createStorage(testConfig({ ...db.env, CDS_SERVICES_DIR: dir }), { logger: silentLogger, options: testOptions() });
    rmSync(dir, { recursive: true });
    await override(show(), 'not-taking');
    expect(shows()).toBe(true);
    await override(show({ patientHash: 'patient-b' }), 'risk-discussed');
    expect(shows({ patientHash: 'patient-b' })).toBe(false);
    expect(shows({ patientHash: 'patient-b', now: new Date(T0.getTime() + 3 * DAY + 1000) })).toBe(true);
  });
});
