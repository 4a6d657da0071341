import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { expect, test } from 'vitest';
import { KNOWLEDGE_DIR } from '../rules/project-rules.js';

test('knowledge.yaml names the pack and its semantic version (the cards\' source label)', () => {
  const meta = parseYaml(readFileSync(path.join(KNOWLEDGE_DIR, 'knowledge.yaml'), 'utf8')) as { name: unknown; version: unknown };
  expect(meta.name).toBe('LDN CDS knowledge base');
  expect(meta.version).toMatch(/^\d+\.\d+\.\d+$/);
});
