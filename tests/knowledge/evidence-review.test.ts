/**
 * Evidence review (src/knowledge/evidence-review.ts): a warning or critical card citing only weak evidence needs an
 * `evidenceReviewed` note, shown on its evidence page. The missing-note error itself is a broken pack
 * (fixtures/knowledge-broken/weak-evidence-warning-without-review).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, test } from 'vitest';
import { isWeakEvidence } from '../../src/knowledge/evidence-review.js';
import { KnowledgeError } from '../../src/model/problems.js';
import { compileRule } from '../../src/rules/compile.js';
import { RuleFileSchema } from '../../src/rules/rule-file.js';
import { renderRulePage } from '../../src/web/evidence/pages.js';
import { projectDependencies, projectRules, REPO_ROOT } from '../rules/project-rules.js';

const deps = projectDependencies();
const WEAK = readFileSync(path.join(REPO_ROOT, 'fixtures/knowledge-broken/weak-evidence-warning-without-review/rules/ldn-weak-warning.yaml'), 'utf8');
const compile = (text: string) => compileRule(RuleFileSchema.parse(parseYaml(text)), 'rules/ldn-weak-warning.yaml', deps, text);
const NOTE = 'Expert consensus <only>: no trial tested this; the card still warns because the harm is plausible & severe.';

function problemsOf(text: string): string[] {
  const parsed = RuleFileSchema.safeParse(parseYaml(text));
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  try {
    compile(text);
    return [];
  } catch (e) {
    if (!(e instanceof KnowledgeError)) throw e;
    return e.problems.map((p) => `${p.field}: ${p.message}`);
  }
}

describe('evidenceReviewed', () => {
  test('with a note, the weak-evidence warning loads, and its evidence page shows the note (escaped)', () => {
    const rule = compile(`${WEAK}evidenceReviewed: ${JSON.stringify(NOTE)}\n`);
    expect(rule.meta?.evidenceReviewed).toBe(NOTE);
    const page = renderRulePage({ name: 'pack', version: '1.0.0', rules: new Map([[rule.id, rule]]), evidence: deps.evidence }, rule);
    expect(page).toContain('<strong>Evidence reviewed.</strong> Expert consensus &lt;only&gt;: no trial tested this; the card still warns because the harm is plausible &amp; severe.');
  });

  test('a note too short to say anything is refused', () => {
    expect(problemsOf(`${WEAK}evidenceReviewed: ok\n`)).toEqual([expect.stringMatching(/^evidenceReviewed: say what the evidence is/)]);
  });

  test('not needed for an info card, nor when one cited entry is stronger, nor for critical cards on a label', () => {
    expect(problemsOf(WEAK.replace('indicator: warning', 'indicator: info'))).toEqual([]);
    expect(problemsOf(WEAK.replace('evidence: [kim-ldn-ms, ldn-ms-consumer-article]', 'evidence: [kim-ldn-ms, gironi-2008]'))).toEqual([]);
    expect(problemsOf(WEAK.replace('indicator: warning', 'indicator: critical'))).toEqual([expect.stringMatching(/^evidenceReviewed: a critical card whose evidence is all/)]);
  });

  test('every shipped warning/critical rule either cites evidence that is not weak or has a note', () => {
    for (const rule of projectRules()) {
      if (rule.meta?.indicator === 'info') continue;
      const weak = rule.meta!.evidence.every((c) => isWeakEvidence(deps.evidence.get(c.id)!));
      expect(!weak || Boolean(rule.meta?.evidenceReviewed), rule.id).toBe(true);
    }
  });
});
