import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, test } from 'vitest';
import { HL7_CATEGORIES, loadOverrideReasons } from '../../src/knowledge/override-reasons.js';
import { KNOWLEDGE_DIR } from '../rules/project-rules.js';

const file = path.join(KNOWLEDGE_DIR, 'override-reasons.yaml');
const catalogue = loadOverrideReasons(file);

describe('override reasons', () => {
  test('are a local code system, and the file says so', () => {
    expect(catalogue.system).toBe('http://ldn-cds.example.org/fhir/CodeSystem/override-reasons');
    expect(readFileSync(file, 'utf8')).toMatch(/LOCAL CODE SYSTEM/);
  });

  test('offer the reasons the cards need, each with a display', () => {
    expect(catalogue.all().map((r) => r.code)).toEqual(
      expect.arrayContaining(['patient-not-taking', 'opioid-free-interval-confirmed', 'supervised-transition', 'benefit-outweighs-risk', 'will-monitor', 'data-incorrect']),
    );
    expect(catalogue.all().filter((r) => r.display.trim() === '')).toEqual([]);
  });

  test('"data incorrect" does not acknowledge the card: the chart should be fixed instead', () => {
    expect(catalogue.get('data-incorrect')).toMatchObject({ acknowledges: false });
    expect(catalogue.get('data-incorrect')?.suppressDays).toBeUndefined();
    expect(catalogue.get('supervised-transition')).toMatchObject({ acknowledges: true, suppressDays: 14 });
  });

  test('codings carry system, code and display, in the order asked', () => {
    expect(catalogue.codings(['will-monitor', 'data-incorrect'])).toEqual([
      { system: catalogue.system, code: 'will-monitor', display: 'Will monitor the patient' },
      { system: catalogue.system, code: 'data-incorrect', display: 'Medication or problem list is incorrect' },
    ]);
    expect(() => catalogue.codings(['because'])).toThrow(/Unknown override reason/);
  });

  test('each shipped reason maps to one of the six HL7 suggested categories (CDS Hooks 3.0 ballot), as a Coding', () => {
    for (const reason of catalogue.all()) {
      expect(reason.category, reason.code).toBeDefined();
      if (!reason.category) continue;
      expect(reason.category.system, reason.code).toBe('http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes');
      expect(Object.keys(HL7_CATEGORIES), reason.code).toContain(reason.category.code);
      expect(reason.category.display).toBe(HL7_CATEGORIES[reason.category.code as keyof typeof HL7_CATEGORIES]);
    }
    expect(catalogue.get('data-incorrect')?.category?.code).toBe('cds-not-applicable');
    expect(catalogue.get('benefit-outweighs-risk')?.category?.code).toBe('recipient-concerns-outcomes');
  });

  test("every rule's override reasons exist", () => {
    const dir = path.join(KNOWLEDGE_DIR, 'rules');
    const codes = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => (parseYaml(readFileSync(path.join(dir, f), 'utf8')) as { card: { overrideReasons?: string[] } }).card.overrideReasons ?? []);
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.filter((code) => !catalogue.get(code))).toEqual([]);
  });
});
