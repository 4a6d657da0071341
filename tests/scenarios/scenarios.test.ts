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
import { createEngine } from '../../src/engine/index.js';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { createLogger } from '../../src/observability/logger.js';
import { hookRequest, loadScenarioFiles } from '../../src/scenarios/build.js';

const DIR = path.join(PROJECT_ROOT, 'fixtures', 'scenarios');
const config = testConfig();
const knowledge = loadKnowledge(config.cdsServicesDir);
const files = loadScenarioFiles(DIR);

test('there are scenario files', () => {
  expect(files.length).toBeGreaterThanOrEqual(6);
});

describe.each(files.map((f) => [f.file, f.scenario] as const))('%s', (_file, scenario) => {
  const now = new Date(scenario.now);
  const engine = createEngine(knowledge, { config, logger: createLogger('silent'), now: () => now });

  test.each(scenario.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const service = knowledge.services.all().find((s) => s.hooks.includes(c.hook))!;
    const { evaluation: result } = await engine.call(service.id, hookRequest(c, now));
    const got = result.rendered.map((r) => `${r.draft.ruleId}:${r.card.indicator}`).sort();
    const want = c.expect.map((e) => `${e.rule}:${e.indicator}`).sort();
    expect(got).toEqual(want);
    for (const e of c.expect) {
      const card = result.rendered.find((r) => r.draft.ruleId === e.rule)!.card;
      const text = `${card.summary}\n${card.detail ?? ''}`.replace(/\s+/g, ' ');
      for (const words of e.says ?? []) expect(text, `${e.rule} says`).toContain(words);
      for (const words of e.neverSays ?? []) expect(text, `${e.rule} never says`).not.toContain(words);
    }
    const parsed = CdsResponseSchema.safeParse(result.response);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});

test('a scenario file that breaks the format is refused with its name and the field', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'scenarios-'));
  writeFileSync(path.join(dir, 'broken.yaml'), 'description: x\nnow: 2026-11-21T09:00:00Z\ncases:\n  - name: no expectation\n');
  expect(() => loadScenarioFiles(dir)).toThrow(/broken\.yaml: cases\[0\]\.expect/);
});
