/**
 * Rule analytics from the audit log joined to feedback: per rule and version, cards shown, accepted, overridden
 * by reason, acceptance rate, over a date range; served by GET /admin/analytics (own admin token) and the
 * `report` CLI.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { analyticsReport } from '../../src/analytics-cli.js';
import { NO_REASON, parseReportRange } from '../../src/storage/analytics.js';
import type { AuditEntry, FeedbackClient, FeedbackItem, RuleAnalytics, Storage } from '../../src/storage/index.js';
import { clientScope } from '../../src/storage/scope.js';
import { BACKENDS, REASON_SYSTEM, openStorage, type TestDatabase } from './backends.js';
import { ADMIN_TOKEN, SERVICE, UNSCOPED, auditEntry, buildApp } from './harness.js';

const DAY1 = new Date('2031-03-01T09:00:00Z');
const DAY2 = new Date('2031-03-02T09:00:00Z');
const DAY3 = new Date('2031-03-03T09:00:00Z');

/** Shows cards on three days and gives feedback on some of them. */
async function seed(storage: Storage): Promise<void> {
  const cards = {
    opioid1: randomUUID(), opioid2: randomUUID(), opioid3: randomUUID(), opioid4: randomUUID(),
    opioidV2: randomUUID(), ifn1: randomUUID(), ifnDay3: randomUUID(),
  };
  storage.audit.recordCards([
    auditEntry({ cardUuid: cards.opioid1, patientHash: 'p-opioid1', ruleId: 'ldn-opioid', ruleVersion: '1.0.0', shownAt: DAY1 }),
    auditEntry({ cardUuid: cards.opioid2, patientHash: 'p-opioid2', ruleId: 'ldn-opioid', ruleVersion: '1.0.0', shownAt: DAY1 }),
    auditEntry({ cardUuid: cards.opioid3, patientHash: 'p-opioid3', ruleId: 'ldn-opioid', ruleVersion: '1.0.0', shownAt: DAY2 }),
    auditEntry({ cardUuid: cards.opioid4, patientHash: 'p-opioid4', ruleId: 'ldn-opioid', ruleVersion: '1.0.0', shownAt: DAY2 }),
    auditEntry({ cardUuid: cards.opioidV2, patientHash: 'p-opioidV2', ruleId: 'ldn-opioid', ruleVersion: '1.1.0', shownAt: DAY2 }),
    auditEntry({ cardUuid: cards.ifn1, patientHash: 'p-ifn1', ruleId: 'ldn-interferon', ruleVersion: '1.0.0', shownAt: DAY1 }),
    auditEntry({ cardUuid: cards.ifnDay3, patientHash: 'p-ifnDay3', ruleId: 'ldn-interferon', ruleVersion: '1.0.0', shownAt: DAY3 }),
  ]);
  const at = new Date('2031-03-04T00:00:00Z');
  const reason = (code: string) => ({ reason: { code, system: REASON_SYSTEM } });
  const items: FeedbackItem[] = [
    { card: cards.opioid1, outcome: 'accepted', acceptedSuggestions: ['s1'], outcomeTimestamp: at },
    { card: cards.opioid2, outcome: 'overridden', acceptedSuggestions: [], overrideReason: reason('aware-of-risk'), outcomeTimestamp: at },
    { card: cards.opioid3, outcome: 'overridden', acceptedSuggestions: [], overrideReason: reason('not-relevant'), outcomeTimestamp: at },
    // the same card overridden twice (the clinician changed the reason): one overridden card, both reasons counted
    { card: cards.opioid3, outcome: 'overridden', acceptedSuggestions: [], overrideReason: reason('aware-of-risk'), outcomeTimestamp: new Date(at.getTime() + 1000) },
    { card: cards.opioidV2, outcome: 'overridden', acceptedSuggestions: [], outcomeTimestamp: at },
    { card: cards.ifn1, outcome: 'accepted', acceptedSuggestions: ['s2'], outcomeTimestamp: at },
    { card: cards.ifnDay3, outcome: 'overridden', acceptedSuggestions: [], overrideReason: { userComment: 'x' }, outcomeTimestamp: at },
    { card: randomUUID(), outcome: 'accepted', acceptedSuggestions: ['s3'], outcomeTimestamp: at }, // unknown card: in no rule
  ];
  await storage.feedback.save(SERVICE, items, at, UNSCOPED);
  await storage.feedback.save(SERVICE, items.slice(0, 2), at, UNSCOPED); // resent: counted once
}

const byRule = (rules: RuleAnalytics[]) => Object.fromEntries(rules.map((r) => [`${r.ruleId}@${r.ruleVersion}`, r]));

describe.each(BACKENDS)('rule analytics on $name', (backend) => {
  let db: TestDatabase;
  let storage: Storage;

  beforeEach(async () => {
    db = await backend.create();
    storage = await openStorage(db.config);
    await seed(storage);
  });
  afterEach(async () => {
    await storage?.close();
    await db?.drop();
  });

  it('counts shown, accepted, overridden by reason and the acceptance rate per rule and version', async () => {
    const rules = await storage.analytics({});
    expect(rules.map((r) => `${r.ruleId}@${r.ruleVersion}`)).toEqual(['ldn-interferon@1.0.0', 'ldn-opioid@1.0.0', 'ldn-opioid@1.1.0']);
    expect(byRule(rules)).toEqual({
      'ldn-opioid@1.0.0': { ruleId: 'ldn-opioid', ruleVersion: '1.0.0', shown: 4, accepted: 1, overridden: 2, overriddenByReason: { 'aware-of-risk': 2, 'not-relevant': 1 }, acceptanceRate: 0.25 },
      'ldn-opioid@1.1.0': { ruleId: 'ldn-opioid', ruleVersion: '1.1.0', shown: 1, accepted: 0, overridden: 1, overriddenByReason: { [NO_REASON]: 1 }, acceptanceRate: 0 },
      'ldn-interferon@1.0.0': { ruleId: 'ldn-interferon', ruleVersion: '1.0.0', shown: 2, accepted: 1, overridden: 1, overriddenByReason: { [NO_REASON]: 1 }, acceptanceRate: 0.5 },
    });
  });

  it('limits the report to cards shown in the date range (from inclusive, to-day included)', async () => {
    const day2 = byRule(await storage.analytics(parseReportRange('2031-03-02', '2031-03-02')));
    expect(Object.keys(day2).sort()).toEqual(['ldn-opioid@1.0.0', 'ldn-opioid@1.1.0']);
    expect(day2['ldn-opioid@1.0.0']).toMatchObject({ shown: 2, accepted: 0, overridden: 1, overriddenByReason: { 'aware-of-risk': 1, 'not-relevant': 1 } });

    const from = byRule(await storage.analytics({ from: DAY2 }));
    expect(from['ldn-interferon@1.0.0']).toMatchObject({ shown: 1, accepted: 0, overridden: 1 });
    const to = byRule(await storage.analytics({ to: DAY2 })); // exclusive instant
    expect(to['ldn-opioid@1.0.0']).toMatchObject({ shown: 2, accepted: 1, overridden: 1 });
    expect(to['ldn-opioid@1.1.0']).toBeUndefined();
    expect(await storage.analytics(parseReportRange('2031-04-01', undefined))).toEqual([]);
  });

  describe('GET /admin/analytics', () => {
    it('answers JSON per rule to the admin token, for a date range', async () => {
      const app = buildApp(storage, { adminToken: ADMIN_TOKEN });
      const res = await request(app).get('/admin/analytics?from=2031-03-02&to=2031-03-02').set('authorization', `Bearer ${ADMIN_TOKEN}`);
      expect(res.status).toBe(200);
      expect(res.body.from).toBe('2031-03-02T00:00:00.000Z');
      expect(res.body.to).toBe('2031-03-03T00:00:00.000Z');
      expect(byRule(res.body.rules)['ldn-opioid@1.0.0']).toMatchObject({ shown: 2, overridden: 1 });
      const all = await request(app).get('/admin/analytics').set('authorization', `Bearer ${ADMIN_TOKEN}`);
      expect(all.body.rules).toHaveLength(3);
    });

    it.each([
      ['no Authorization header', undefined],
      ['a wrong token', 'Bearer wrong-token'],
      ['a token that is a prefix of the right one', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
      ['the right token with another scheme', `Basic ${ADMIN_TOKEN}`],
    ])('answers 401 to %s', async (_label, authorization) => {
      const app = buildApp(storage, { adminToken: ADMIN_TOKEN });
      const req = request(app).get('/admin/analytics');
      const res = await (authorization ? req.set('authorization', authorization) : req);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(res.body)).not.toContain('ldn-opioid');
    });

    it('is not there (404) when no admin token is configured', async () => {
      const app = buildApp(storage);
      const res = await request(app).get('/admin/analytics').set('authorization', `Bearer ${ADMIN_TOKEN}`);
      expect(res.status).toBe(404);
    });

    it.each([['from=yesterday'], ['to=2031-02-30'], ['from=2031-03-03&to=2031-03-01'], ['from=2031-03-01&from=2031-03-02']])('answers 400 to the query %s', async (query) => {
      const app = buildApp(storage, { adminToken: ADMIN_TOKEN });
      const res = await request(app).get(`/admin/analytics?${query}`).set('authorization', `Bearer ${ADMIN_TOKEN}`);
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    });
  });

  describe('report CLI', () => {
    async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
      const out: string[] = [];
      const err: string[] = [];
      const code = await analyticsReport(argv, (l) => out.push(l), (l) => err.push(l), { ...db.env, NODE_ENV: 'test', LOG_LEVEL: 'silent' });
      return { code, out: out.join('\n'), err: err.join('\n') };
    }

    it('prints a table per rule and version', async () => {
      const { code, out } = await run(['--from', '2031-03-01', '--to', '2031-03-02']);
      expect(code).toBe(0);
      const lines = out.split('\n');
      expect(lines[0]).toBe('Cards shown from 2031-03-01T00:00:00.000Z to 2031-03-03T00:00:00.000Z');
      expect(lines[1]).toMatch(/^rule\s+version\s+shown\s+accepted\s+overridden\s+acceptance\s+overridden by reason$/);
      expect(lines.find((l) => l.startsWith('ldn-opioid ') && l.includes('1.0.0'))).toMatch(/\s4\s+1\s+2\s+25\.0%\s+aware-of-risk 2, not-relevant 1$/);
      expect(lines.find((l) => l.includes('1.1.0'))).toMatch(/\(none\) 1$/);
    });

    it('prints JSON with --json', async () => {
      const { code, out } = await run(['--json']);
      expect(code).toBe(0);
      const parsed = JSON.parse(out) as { from: null; rules: RuleAnalytics[] };
      expect(parsed.from).toBeNull();
      expect(byRule(parsed.rules)['ldn-opioid@1.0.0']?.acceptanceRate).toBe(0.25);
    });

    it('exits 2 with a message for a bad date or option', async () => {
      expect(await run(['--from', '03/01/2031'])).toMatchObject({ code: 2, err: expect.stringContaining('"from"') });
      expect((await run(['--since', 'x'])).code).toBe(2);
    });
  });
});

describe('report CLI without a database', () => {
  it('exits 1 when the SQLite file does not exist (and does not create it)', async () => {
    const err: string[] = [];
    const code = await analyticsReport([], () => undefined, (l) => err.push(l), { NODE_ENV: 'test', LOG_LEVEL: 'silent', SQLITE_PATH: '/nonexistent-ldn-cds/none.sqlite' });
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('No database at /nonexistent-ldn-cds/none.sqlite');
  });
});

describe.each(BACKENDS)('showings in analytics on $name (order-select re-fires)', (backend) => {
  let db: TestDatabase;
  let storage: Storage;
  const T = new Date('2031-05-01T10:00:00.000Z');
  const at = (s: number) => new Date(T.getTime() + s * 1000);
  const X = clientScope({ iss: 'https://ehr-x.example.org' }, 'https://fhir.example.org/r4');
  const Y = clientScope({ iss: 'https://ehr-y.example.org' }, 'https://fhir.example.org/r4');

  beforeEach(async () => {
    db = await backend.create();
  });
  afterEach(async () => {
    await storage?.close();
    await db?.drop();
  });

  /** Cards of one rule shown at these second offsets; the same draft order, patient and client unless given. */
  function show(seconds: number[], e: Partial<AuditEntry> = {}): string[] {
    const uuids = seconds.map(() => randomUUID());
    storage.audit.recordCards(uuids.map((cardUuid, i) => auditEntry({ cardUuid, hook: 'order-select', orderKeys: ['order-1'], scope: X, shownAt: at(seconds[i]!), ...e })));
    return uuids;
  }
  const feedback = (card: string, outcome: 'accepted' | 'overridden', client: FeedbackClient = X) =>
    storage.feedback.save(SERVICE, [{ card, outcome, acceptedSuggestions: outcome === 'accepted' ? ['s'] : [], outcomeTimestamp: T }], at(600), client);
  const opioid = async () => (await storage.analytics({})).find((r) => r.ruleId === 'ldn-opioid');

  it('counts a card re-fired for the same draft order, patient and client within the window once, with its decision', async () => {
    storage = await openStorage(db.config);
    const [, , third] = show([0, 20, 50]);
    await feedback(third!, 'accepted');
    expect(await opioid()).toMatchObject({ shown: 1, accepted: 1, overridden: 0, acceptanceRate: 1 });
  });

  it('a showing lasts while re-fires keep coming within the window of each other, and a later one is a new showing', async () => {
    storage = await openStorage(db.config, { options: { analyticsRepeatWindowS: 300 } });
    show([0, 200, 400, 599]); // each within 300 s of the one before: one showing
    show([1000]); // 401 s after the last: a new one
    expect((await opioid())?.shown).toBe(2);
  });

  it('counts separately another patient, draft order, client, FHIR server or hook', async () => {
    storage = await openStorage(db.config);
    show([0, 10]);
    show([5], { patientHash: 'patient-b' });
    show([5], { orderKeys: ['order-2'] });
    show([5], { scope: Y });
    show([5], { scope: { ...X, fhirServer: 'https://other.example.org/fhir' } });
    show([5], { hook: 'order-sign' });
    expect((await opioid())?.shown).toBe(6);
  });

  it('counts every card with ANALYTICS_REPEAT_WINDOW_S=0', async () => {
    storage = await openStorage(db.config, { options: { analyticsRepeatWindowS: 0 } });
    show([0, 20, 50]);
    expect((await opioid())?.shown).toBe(3);
  });

  it('reports one client (issuer, tenant) through storage, GET /admin/analytics and the report CLI', async () => {
    storage = await openStorage(db.config);
    show([0]);
    show([0, 1000], { scope: Y });
    show([0], { scope: { ...Y, tenant: 't-2' } });
    expect((await storage.analytics({ issuer: X.issuer }))[0]?.shown).toBe(1);
    expect((await storage.analytics({ issuer: Y.issuer }))[0]?.shown).toBe(3);
    expect((await storage.analytics({ issuer: Y.issuer, tenant: '' }))[0]?.shown).toBe(2);
    expect(await storage.analytics({ issuer: 'https://nobody.example.org' })).toEqual([]);

    const app = buildApp(storage, { adminToken: ADMIN_TOKEN });
    const res = await request(app).get('/admin/analytics').query({ issuer: Y.issuer, tenant: 't-2' }).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ issuer: Y.issuer, tenant: 't-2', rules: [{ ruleId: 'ldn-opioid', shown: 1 }] });
    const lonely = await request(app).get('/admin/analytics').query({ tenant: 't-2' }).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(lonely.status).toBe(400);
    expect(lonely.body.resourceType).toBe('OperationOutcome');

    await storage.audit.flush();
    const out: string[] = [];
    const code = await analyticsReport(['--issuer', X.issuer, '--json'], (l) => out.push(l), () => undefined, db.env);
    expect(code).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ issuer: X.issuer, rules: [{ ruleId: 'ldn-opioid', shown: 1 }] });
    expect(await analyticsReport(['--tenant', 't-2'], () => undefined, () => undefined, db.env)).toBe(2);
  });

  it("counts a showing overridden then accepted once under each outcome, and ignores another client's feedback", async () => {
    storage = await openStorage(db.config);
    const [first, , third] = show([0, 20, 50]);
    await feedback(first!, 'overridden');
    await feedback(third!, 'accepted');
    await feedback(third!, 'overridden', Y); // Y was never shown this card
    expect(await opioid()).toMatchObject({ shown: 1, accepted: 1, overridden: 1, overriddenByReason: { [NO_REASON]: 1 } });
  });
});
