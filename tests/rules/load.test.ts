import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fhirpath from 'fhirpath';
import { parse as parseYaml } from 'yaml';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { KnowledgeError } from '../../src/model/problems.js';
import { loadRules } from '../../src/rules/load.js';
import { draftOrder, glatiramer, ldnOrder, multipleSclerosis, noDrafts, opioid, orderFacts, patientViewFacts, statement } from '../helpers/facts.js';
import { KNOWLEDGE_DIR, projectDependencies, projectRules } from './project-rules.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('loadRules on the project pack', () => {
  const rules = projectRules();

  test('loads every rule file, sorted by file name, with their hooks (derived from the files, never a count)', () => {
    const dir = path.join(KNOWLEDGE_DIR, 'rules');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => parseYaml(readFileSync(path.join(dir, f), 'utf8')) as { id: string; hooks: string[] });
    expect(rules.map((r) => r.id)).toEqual(files.map((f) => f.id));
    expect(Object.fromEntries(rules.map((r) => [r.id, r.hooks]))).toEqual(Object.fromEntries(files.map((f) => [f.id, f.hooks])));
    expect(rules.map((r) => r.id)).toEqual(expect.arrayContaining(['ldn-with-opioid', 'opioid-with-naltrexone', 'ldn-dosing-guidance']));
    expect(rules.find((r) => r.id === 'ldn-with-opioid')!.hooks).toEqual(['order-select', 'order-sign', 'patient-view']);
    expect(rules.every((r) => /^\d+\.\d+\.\d+$/.test(r.version))).toBe(true);
  });

  test('the spasticity rules share one concern, so only the most urgent card is shown', () => {
    const concerns = new Set(rules.filter((r) => r.id.startsWith('ldn-ms-spasticity')).map((r) => r.concern));
    expect([...concerns]).toEqual(['ldn-ms-spasticity']);
  });

  test('compiles FHIRPath at load only, never while evaluating', () => {
    const compile = vi.spyOn(fhirpath, 'compile');
    for (const rule of rules) rule.evaluate(orderFacts({ focus: [ldnOrder(6, { atBedtime: false })], medications: [opioid()] }), noDrafts);
    expect(compile).not.toHaveBeenCalled();
  });

  test('no rule answers a metformin order', () => {
    const facts = orderFacts({ focus: [draftOrder('metformin 500 mg tablet')], medications: [statement('lisinopril 10 mg')], conditions: [multipleSclerosis()] });
    expect(rules.map((r) => r.evaluate(facts, noDrafts)).filter(Boolean)).toEqual([]);
  });

  test('no rule answers LDN with glatiramer only (a first 1.5 mg order at bedtime, MS without spasticity)', () => {
    const orderCall = orderFacts({ focus: [ldnOrder(1.5)], medications: [glatiramer()], conditions: [multipleSclerosis()] });
    const viewCall = patientViewFacts({ medications: [statement('Naltrexone 1.5 mg capsule', { isNaltrexone: true, naltrexoneRole: 'ldn' }), glatiramer()] });
    expect(rules.map((r) => r.evaluate(orderCall, noDrafts)).filter(Boolean)).toEqual([]);
    expect(rules.map((r) => r.evaluate(viewCall, noDrafts)).filter(Boolean)).toEqual([]);
  });

  test('every card keeps its summary under 140 characters and cites evidence', () => {
    const facts = orderFacts({ focus: [ldnOrder(6, { atBedtime: false })], medications: [opioid()], conditions: [multipleSclerosis()] });
    const cards = rules.map((r) => r.evaluate(facts, noDrafts)).filter((c) => c !== null);
    expect(cards.length).toBeGreaterThan(0);
    for (const card of cards) {
      expect(card.summary.length).toBeLessThan(140);
      expect(card.evidence.length).toBeGreaterThan(0);
      expect(card.detail).toMatch(/\*\*Evidence\*\*\n- /);
    }
  });
});

test('a missing rules folder is a KnowledgeError naming it', () => {
  expect(() => loadRules('/nonexistent/knowledge', projectDependencies())).toThrow(KnowledgeError);
  expect(() => loadRules('/nonexistent/knowledge', projectDependencies())).toThrow(/rules: cannot read the rules folder/);
});
