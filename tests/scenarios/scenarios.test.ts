/**
 * Clinical scenarios, end to end through the real knowledge pack: FHIR data in, exactly the expected cards out.
 * Each fixtures/scenarios/*.yaml file is a describe(), each case a test.
 */
import { describe, expect, test } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT, testConfig } from '../../src/config.js';
import { CdsResponseSchema } from '../../src/cards/schema.js';
import { createEngine } from '../../src/engine.js';
import { parseHookRequest } from '../../src/hooks/request.js';
import { loadKnowledge } from '../../src/knowledge/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { ScenarioFile, hookRequest } from './build.js';

const DIR = path.join(PROJECT_ROOT, 'fixtures', 'scenarios');
const config = testConfig();
const knowledge = loadKnowledge(config.cdsServicesDir);
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

test('there are scenario files', () => {
  expect(files.length).toBeGreaterThanOrEqual(6);
});

describe.each(files)('%s', (file) => {
  const scenario = ScenarioFile.parse(parse(readFileSync(path.join(DIR, file), 'utf8')));
  const now = new Date(scenario.now);
  const engine = createEngine(knowledge, { config, logger: createLogger('silent'), now: () => now });

  test.each(scenario.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const service = knowledge.services.all().find((s) => s.hooks.includes(c.hook))!;
    const request = parseHookRequest(hookRequest(c, now), service.hooks, service.id);
    const result = await engine.evaluate(service, request);
    const got = result.rendered.map((r) => `${r.draft.ruleId}:${r.card.indicator}`).sort();
    const want = c.expect.map((e) => `${e.rule}:${e.indicator}`).sort();
    expect(got).toEqual(want);
    const parsed = CdsResponseSchema.safeParse(result.response);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});
