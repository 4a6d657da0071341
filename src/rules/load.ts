/**
 * Loading the rule files (cds-services/rules/*.yaml) at start-up: each is read, validated with zod
 * and compiled once. Problems from every file are collected and thrown together as one KnowledgeError,
 * each naming the file and field, e.g. `rules/ldn-with-opioid.yaml: bind.opioids: FHIRPath syntax error: …`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KnowledgeError, ProblemList } from '../model/problems.js';
import { readKnowledgeFile } from '../knowledge/read-yaml.js';
import { compileRule, type RuleDependencies } from './compile.js';
import type { Rule } from './contract.js';
import { RuleFileSchema } from './rule-file.js';

export type { RuleDependencies } from './compile.js';

/** Rule files live in this folder of the knowledge directory. */
const RULES_FOLDER = 'rules';

/**
 * Load every `rules/*.yaml` under the knowledge directory `knowledgeDir` (cds-services/), sorted by
 * file name. A rule's id must equal its file name. Throws a KnowledgeError listing every problem in every file.
 */
export function loadRules(knowledgeDir: string, deps: RuleDependencies): Rule[] {
  const dir = path.join(knowledgeDir, RULES_FOLDER);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort();
  } catch (e) {
    throw KnowledgeError.one(RULES_FOLDER, '', `cannot read the rules folder: ${(e as Error).message}`);
  }
  const problems = new ProblemList();
  if (names.length === 0) problems.add(RULES_FOLDER, '', 'holds no *.yaml rule files');

  const rules = names.flatMap((name) => {
    const label = `${RULES_FOLDER}/${name}`;
    const rule = problems.collect(() => {
      const file = readKnowledgeFile(path.join(dir, name), label, RuleFileSchema);
      const expectedId = name.replace(/\.yaml$/, '');
      if (file.id !== expectedId) throw KnowledgeError.one(label, 'id', `"${file.id}" must match the file name "${expectedId}"`);
      // Read again for the When/Then header comment (comments are not part of the parsed YAML).
      return compileRule(file, label, deps, readFileSync(path.join(dir, name), 'utf8'));
    });
    return rule ? [rule] : [];
  });
  problems.throwIfAny();
  return rules;
}
