/**
 * Clinical scenarios, end to end through the real knowledge pack: FHIR data in, exactly the expected cards out.
 * Each fixtures/scenarios/*.yaml file is a describe(), each case a test.
 */
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { CdsResponseSchema } from '../../src/cards/schema.js';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { loadScenarioFiles } from '../../src/scenarios/build.js';
import { cardKeys, runCase, scenarioEngine } from '../../src/scenarios/run.js';

const DIR = path.join(PROJECT_ROOT, 'fixtures', 'scenarios');
const config = testConfig();
const knowledge = loadKnowledge(config.cdsServicesDir);
const files = loadScenarioFiles(DIR);

test('there are scenario files', () => {
  expect(files.length).toBeGreaterThan(0);
});

describe.each(files.map((f) => [f.file, f.scenario] as const))('%s', (file, scenario) => {
  const now = new Date(scenario.now);
  // The one runner `ldn-cds test` and `ldn-cds evaluate` use (src/scenarios/run.ts).
  const engine = scenarioEngine(knowledge, config, now);

  test.each(scenario.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const result = await runCase(engine, file, c, now);
    expect(result.problems).toEqual([]);
    expect(cardKeys(result.evaluation.rendered)).toEqual(c.expect.map((e) => `${e.rule}:${e.indicator}`).sort());
    const parsed = CdsResponseSchema.safeParse(result.evaluation.response);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});

test('a scenario file that breaks the format is refused with its name and the field', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'scenarios-'));
  writeFileSync(path.join(dir, 'broken.yaml'), 'description: x\nnow: 2026-11-21T09:00:00Z\ncases:\n  - name: no expectation\n');
  expect(() => loadScenarioFiles(dir)).toThrow(/broken\.yaml: cases\[0\]\.expect/);
});

describe('the runner reports every difference in words', () => {
  const withCard = files.flatMap((f) => f.scenario.cases.map((c) => ({ c, now: new Date(f.scenario.now) }))).find(({ c }) => c.expect.length > 0)!;
  const { c, now } = withCard;
  const engine = scenarioEngine(knowledge, config, now);

  test('a missing or extra card', async () => {
    const r = await runCase(engine, 'x.yaml', { ...c, expect: [{ rule: 'no-such-rule', indicator: 'info' }] }, now);
    expect(r.problems).toEqual([expect.stringMatching(/^expected no-such-rule:info; got .+:/)]);
  });

  test('words a card does not say, and words it must never say', async () => {
    const summary = (await runCase(engine, 'x.yaml', c, now)).evaluation.rendered.find((r) => r.draft.ruleId === c.expect[0]!.rule)!.card.summary;
    const expect0 = { ...c.expect[0]!, says: ['words no card says'], neverSays: [summary.slice(0, 12)] };
    const r = await runCase(engine, 'x.yaml', { ...c, expect: [expect0, ...c.expect.slice(1)] }, now);
    expect(r.problems).toEqual([`${expect0.rule} does not say "words no card says"`, `${expect0.rule} says "${summary.slice(0, 12)}", which it must never say`]);
  });
});
