/**
 * Card topics (cds-services/card-topics.yaml): every card carries its rule's concern as source.topic, a Coding of
 * the local card-topic code system; a concern with no topic gives a card without one; a malformed topics file stops
 * start-up.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { createEngine } from '../../src/engine/index.js';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { loadCardTopics } from '../../src/knowledge/card-topics.js';
import { createLogger } from '../../src/observability/logger.js';

const PACK = path.join(PROJECT_ROOT, 'cds-services');
/** LDN ordered for a patient on oxycodone (critical) and more: cards of several concerns. */
const REQUEST = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'fixtures', 'requests', 'order-select-ldn-oxycodone.json'), 'utf8')) as Record<string, unknown>;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function copyPack(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ldn-topics-'));
  dirs.push(dir);
  cpSync(PACK, dir, { recursive: true });
  return dir;
}

describe('card topics', () => {
  test('every rule of the shipped pack has a topic, and a card carries it as source.topic', async () => {
    const knowledge = loadKnowledge(PACK);
    const topics = loadCardTopics(path.join(PACK, 'card-topics.yaml'));
    for (const rule of knowledge.rules.values()) expect(topics.get(rule.concern), rule.id).toMatchObject({ system: topics.system, code: rule.concern });
    const engine = createEngine(knowledge, { config: testConfig(), logger: createLogger('silent'), memoChars: 0 });
    const { evaluation } = await engine.call('ldn-order-select', REQUEST);
    expect(evaluation.response.cards.length).toBeGreaterThan(0);
    for (const { card, draft } of evaluation.rendered) {
      expect(card.source.topic, draft.ruleId).toEqual(topics.get(draft.concern));
      expect(card.source.topic!.display!.length).toBeGreaterThan(0);
    }
  });

  test('a concern with no topic (a new rule a pharmacist adds) gives a card without source.topic, never an error', async () => {
    const dir = copyPack();
    const file = path.join(dir, 'card-topics.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n {2}naltrexone-opioid:\n {4}display: [^\n]+/, ''));
    const knowledge = loadKnowledge(dir);
    const engine = createEngine(knowledge, { config: testConfig(), logger: createLogger('silent'), memoChars: 0 });
    const { evaluation } = await engine.call('ldn-order-select', REQUEST);
    const opioid = evaluation.rendered.find((r) => r.draft.concern === 'naltrexone-opioid')!;
    expect(opioid.card.source.topic).toBeUndefined();
    expect(evaluation.rendered.some((r) => r.card.source.topic !== undefined)).toBe(true);
  });

  test('a malformed topics file is a start-up error naming the file and field', () => {
    const dir = copyPack();
    writeFileSync(path.join(dir, 'card-topics.yaml'), 'system: not-a-url\nlocal: true\ndescription: x\ntopics:\n  Bad_Code:\n    display: ""\n');
    expect(() => loadKnowledge(dir)).toThrow(/card-topics\.yaml: (system|topics)/);
  });
});
