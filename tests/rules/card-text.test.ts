/**
 * Card honesty checks on the whole pack (issue 13): every card's detail is short enough to read in seconds, and
 * nothing a clinician sees (cards, evidence pages) carries the project's internal notes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, test } from 'vitest';
import { KNOWLEDGE_DIR } from './project-rules.js';

interface RuleYaml {
  id: string;
  card: { summary: string; detail: string; findings?: { label: string; text: string }[]; evidence: (string | { id: string; says?: string })[] };
}
const rules: RuleYaml[] = readdirSync(path.join(KNOWLEDGE_DIR, 'rules'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => parseYaml(readFileSync(path.join(KNOWLEDGE_DIR, 'rules', f), 'utf8')) as RuleYaml);
const evidence = (parseYaml(readFileSync(path.join(KNOWLEDGE_DIR, 'evidence.yaml'), 'utf8')) as { evidence: Record<string, unknown>[] }).evidence;

/**
 * The longest detail a rule can give, before its Evidence list: every finding holds, except that findings with the
 * same summary label are alternatives (the longer one counts). Placeholders count as written.
 */
function longestDetail(rule: RuleYaml): string {
  const byLabel = new Map<string, string>();
  for (const f of rule.card.findings ?? []) if ((byLabel.get(f.label) ?? '').length < f.text.length) byLabel.set(f.label, f.text);
  const findings = [...byLabel.values()].map((t) => `- ${t}`).join('\n');
  return rule.card.detail.replace('{{findings}}', findings).replace(/\s+/g, ' ').trim();
}

const INTERNAL = [/terminology\.md/i, /§\s*\d/, /\bseeds?\b/i, /https is assumed/i, /\.txt\b/, /research notes/i, /LOOKUPS/];

describe('card text', () => {
  test.each(rules.map((r) => [r.id, r] as const))('%s: detail at most ~700 characters (evidence list excluded)', (_id, rule) => {
    expect(longestDetail(rule).length).toBeLessThanOrEqual(720);
  });

  test.each(rules.map((r) => [r.id, r] as const))('%s: no internal notes in the summary, detail, findings or "says"', (_id, rule) => {
    const says = rule.card.evidence.flatMap((e) => (typeof e === 'string' ? [] : [e.says ?? '']));
    const shown = [rule.card.summary, longestDetail(rule), ...(rule.card.findings ?? []).map((f) => f.label), ...says].join('\n');
    for (const re of INTERNAL) expect(shown, String(re)).not.toMatch(re);
  });

  test('no internal notes in what evidence pages show of each entry (label, citation, design, size, finding)', () => {
    for (const e of evidence) {
      const shown = ['label', 'citation', 'design', 'size', 'finding'].map((k) => String(e[k] ?? '')).join('\n');
      for (const re of INTERNAL) expect(shown, `${String(e.id)} ${String(re)}`).not.toMatch(re);
    }
  });

  test('the spasticity cards state both sources: expert advice in a consumer article, and the pilot trial that reported less spasticity', () => {
    for (const id of ['ldn-ms-spasticity-dose', 'ldn-ms-spasticity-evidence']) {
      const text = longestDetail(rules.find((r) => r.id === id)!);
      expect(text, id).toMatch(/consumer MS article advises no more than 3 mg\/day/);
      expect(text, id).toMatch(/(less|reduction of) spasticity/);
      expect(text, id).not.toMatch(/theoretical/i);
    }
  });
});
