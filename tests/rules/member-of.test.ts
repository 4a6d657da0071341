/**
 * FHIRPath memberOf('<url>') (src/rules/member-of.ts): value sets named by canonical url, in a copy of the pack with
 * a value-set file, a rule using it and a service listing the rule, without any TypeScript: the card over HTTP and
 * in `ldn-cds test`; an unknown url is a start-up error naming the rule, the expression and the url.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createApp } from '../../src/app.js';
import { main } from '../../src/cli.js';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { KnowledgeError } from '../../src/model/problems.js';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { loadValueSets } from '../../src/clinical/valuesets.js';
import { compileExpression } from '../../src/rules/fhirpath.js';
import { hookRequest } from '../../src/scenarios/build.js';
import type { ScenarioCase } from '../../src/scenarios/build.js';

const PACK = path.join(PROJECT_ROOT, 'cds-services');
const OUD = 'http://ldn-cds.example.org/fhir/ValueSet/opioid-use-disorder';
const NEW_URL = 'http://example.org/fhir/ValueSet/test-multiple-sclerosis-compose';
const valueSets = loadValueSets(path.join(PACK, 'valuesets'));

/** A ValueSet by compose, with one code copied from cds-services/valuesets/multiple-sclerosis.json. */
const NEW_VALUE_SET = {
  resourceType: 'ValueSet',
  id: 'test-multiple-sclerosis-compose',
  url: NEW_URL,
  status: 'draft',
  description: 'Test only: SNOMED CT 24700007, copied from multiple-sclerosis.json.',
  compose: { include: [{ system: 'http://snomed.info/sct', concept: [{ code: '24700007', display: 'Multiple sclerosis' }] }] },
};

const RULE = (url: string) => `# When  LDN is ordered for a patient with a condition in the test value set
# Then  info: test rule for memberOf()
id: ldn-member-of-test
title: memberOf test rule
version: 1.0.0
concern: ldn-member-of-test
hooks: [order-select, order-sign]
bind:
  ldn: "%focus.where(naltrexoneRole = 'ldn')"
  inSet: "%conditions.where(active and memberOf('${url}'))"
when: [ldn, inSet]
card:
  indicator: info
  summary: "memberOf: {{inSet}}"
  detail: |
    The condition {{inSet}} is in the value set.
  evidence: [toljan-vrooman-2018]
`;

afterEach(() => {
  vi.unstubAllEnvs();
});

function packWith(rule: string): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'ldn-memberof-')), 'cds-services');
  cpSync(PACK, dir, { recursive: true });
  writeFileSync(path.join(dir, 'valuesets', 'test-multiple-sclerosis-compose.json'), JSON.stringify(NEW_VALUE_SET, null, 2));
  writeFileSync(path.join(dir, 'rules', 'ldn-member-of-test.yaml'), rule);
  const service = path.join(dir, 'services', 'ldn-order.yaml');
  writeFileSync(service, readFileSync(service, 'utf8').replace('  - naltrexone-duplicate-order\n', '  - naltrexone-duplicate-order\n  - ldn-member-of-test\n'));
  return dir;
}

const CASE: ScenarioCase = {
  name: 'LDN for a patient with MS',
  hook: 'order-sign',
  medications: [],
  conditions: [{ code: 'snomed:24700007', text: 'Multiple sclerosis' }],
  orders: [{ text: 'Naltrexone 1.5 mg capsule (compounded)', dose: '1.5 mg', when: 'HS' }],
  expect: [],
};

describe('memberOf() in a rule, with no TypeScript change', () => {
  test('a new ValueSet file (compose) and a rule using its url give the card over HTTP', async () => {
    const dir = packWith(RULE(NEW_URL));
    const app = await createApp(testConfig({ CDS_SERVICES_DIR: dir }));
    try {
      const res = await request(app.app).post('/cds-services/ldn-order-sign').send(hookRequest(CASE, new Date('2026-11-21T09:00:00Z'))).expect(200);
      expect(res.body.cards.map((c: { summary: string }) => c.summary)).toContain('memberOf: Multiple sclerosis');
      const without = await request(app.app).post('/cds-services/ldn-order-sign').send(hookRequest({ ...CASE, conditions: [{ code: 'snomed:221360009', text: 'Spasticity' }] }, new Date('2026-11-21T09:00:00Z'))).expect(200);
      expect(without.body.cards.map((c: { summary: string }) => c.summary)).not.toContain('memberOf: Spasticity');
    } finally {
      await app.close();
    }
  });

  test('ldn-cds test runs a scenario on it', async () => {
    const dir = packWith(RULE(NEW_URL));
    vi.stubEnv('CDS_SERVICES_DIR', dir);
    const scenario = path.join(path.dirname(dir), 'memberof.yaml');
    writeFileSync(
      scenario,
      `description: memberOf\nnow: 2026-11-21T09:00:00Z\ncases:\n  - name: LDN with MS\n    hook: order-sign\n    conditions: [{ code: "snomed:24700007", text: Multiple sclerosis }]\n    orders: [{ text: Naltrexone 1.5 mg capsule (compounded), dose: 1.5 mg, when: HS }]\n    expect: [{ rule: ldn-member-of-test, indicator: info, says: ["memberOf: Multiple sclerosis"] }]\n`,
    );
    const out: string[] = [];
    await main(['test', scenario], (s) => out.push(s), () => {});
    expect(out).toContain(`✓ ${scenario}: LDN with MS`);
  });

  test('an unknown url fails at start-up naming the rule, the expression and the url', () => {
    const dir = packWith(RULE('http://example.org/fhir/ValueSet/nowhere'));
    let error: unknown;
    try {
      loadKnowledge(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KnowledgeError);
    expect((error as Error).message).toContain(
      `rules/ldn-member-of-test.yaml: bind.inSet: unknown value set url "http://example.org/fhir/ValueSet/nowhere" in memberOf() of "%conditions.where(active and memberOf('http://example.org/fhir/ValueSet/nowhere'))"`,
    );
  });

  test('two value-set files with one url are refused', () => {
    const dir = packWith(RULE(NEW_URL));
    writeFileSync(path.join(dir, 'valuesets', 'test-copy.json'), JSON.stringify({ ...NEW_VALUE_SET, id: 'test-copy' }));
    expect(() => loadKnowledge(dir)).toThrow(`valuesets/test-multiple-sclerosis-compose.json: url: "${NEW_URL}" is also the url of valuesets/test-copy.json: a canonical url names one value set`);
  });
});

describe('memberOf() semantics', () => {
  const run = (expression: string, vars: Record<string, unknown>) => compileExpression(expression, new Set(Object.keys(vars)), valueSets)({} as never, vars);
  const oud = { system: 'http://snomed.info/sct', code: '5602001' };
  const other = { system: 'http://snomed.info/sct', code: '24700007' };

  test('on codings, CodeableConcepts and facts (their codes and their ingredients\' codes)', () => {
    expect(run(`%x.memberOf('${OUD}')`, { x: [oud, other] })).toEqual([true, false]);
    expect(run(`%x.memberOf('${OUD}')`, { x: [{ coding: [other, oud] }] })).toEqual([true]);
    expect(run(`%x.where(memberOf('${OUD}'))`, { x: [{ codes: [other] }, { codes: [oud] }, { codes: [], ingredients: [{ codes: [oud] }] }] })).toHaveLength(2);
    expect(run(`%x.memberOf('${OUD}')`, { x: [{ name: 'no codes' }, 'text', 3] })).toEqual([false, false, false]);
    expect(run(`%x.memberOf('${OUD}')`, { x: [] })).toEqual([]);
  });

  test('the url must be one quoted literal; without value sets memberOf() is refused', () => {
    expect(() => compileExpression(`%x.memberOf(%x)`, new Set(['x']), valueSets)).toThrow(/memberOf\(\) in "%x\.memberOf\(%x\)" takes one quoted value-set url/);
    expect(() => compileExpression(`%x.memberOf('${OUD}')`, new Set(['x']))).toThrow(/needs the knowledge pack's value sets/);
  });
});
