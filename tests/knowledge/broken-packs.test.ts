/**
 * One folder per broken knowledge pack (fixtures/knowledge-broken/<case>/), each with the broken file and
 * expected-error.txt: every line of it must appear in the KnowledgeError message, naming file and field.
 * A folder holding evidence.yaml or override-reasons.yaml tests that loader; otherwise rules/ is loaded.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { KnowledgeError } from '../../src/model/problems.js';
import { loadEvidence } from '../../src/knowledge/evidence.js';
import { loadOverrideReasons } from '../../src/knowledge/override-reasons.js';
import { loadRules } from '../../src/rules/load.js';
import { projectDependencies, REPO_ROOT } from '../rules/project-rules.js';

const BROKEN = path.join(REPO_ROOT, 'fixtures/knowledge-broken');
const cases = readdirSync(BROKEN).sort();
const deps = projectDependencies();

function loadBrokenPack(dir: string): unknown {
  if (existsSync(path.join(dir, 'evidence.yaml'))) return loadEvidence(path.join(dir, 'evidence.yaml'));
  if (existsSync(path.join(dir, 'override-reasons.yaml'))) return loadOverrideReasons(path.join(dir, 'override-reasons.yaml'));
  return loadRules(dir, deps);
}

function errorOf(load: () => unknown): KnowledgeError {
  try {
    load();
  } catch (e) {
    if (e instanceof KnowledgeError) return e;
    throw e;
  }
  throw new Error('expected a KnowledgeError, but the pack loaded');
}

describe('broken knowledge packs', () => {
  test('there are cases to run', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  test.each(cases)('rejects %s with a message naming the file and field', (name) => {
    const dir = path.join(BROKEN, name);
    const expected = readFileSync(path.join(dir, 'expected-error.txt'), 'utf8').split('\n').filter(Boolean);
    expect(expected.length).toBeGreaterThan(0);
    const error = errorOf(() => loadBrokenPack(dir));
    for (const line of expected) expect(error.message).toContain(line);
  });
});
