/** The project's own knowledge pack (cds-services/), loaded once per test file. */
import path from 'node:path';
import { loadValueSets } from '../../src/clinical/valuesets.js';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { loadEvidence } from '../../src/knowledge/evidence.js';
import { loadOverrideReasons } from '../../src/knowledge/override-reasons.js';
import type { Rule } from '../../src/rules/contract.js';
import { loadRules, type RuleDependencies } from '../../src/rules/load.js';

export const REPO_ROOT = PROJECT_ROOT;
export const KNOWLEDGE_DIR = path.join(REPO_ROOT, 'cds-services');

export function projectDependencies(): RuleDependencies {
  return {
    evidence: loadEvidence(path.join(KNOWLEDGE_DIR, 'evidence.yaml')),
    overrideReasons: loadOverrideReasons(path.join(KNOWLEDGE_DIR, 'override-reasons.yaml')),
    // memberOf('<url>') in a rule looks here.
    valueSets: loadValueSets(path.join(KNOWLEDGE_DIR, 'valuesets')),
  };
}

export function projectRules(): Rule[] {
  return loadRules(KNOWLEDGE_DIR, projectDependencies());
}

/** One rule of the project pack by id; throws when it is missing. */
export function projectRule(id: string): Rule {
  const rule = projectRules().find((r) => r.id === id);
  if (!rule) throw new Error(`no rule "${id}" in cds-services/rules`);
  return rule;
}
