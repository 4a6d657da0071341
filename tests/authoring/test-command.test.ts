/**
 * `ldn-cds test` and `ldn-cds lock` (src/authoring-cli.ts) on copies of the knowledge pack: what a pharmacist
 * adding a rule sees, with no TypeScript change. Counts are derived from the files, never written here.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { main } from '../../src/cli.js';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { loadScenarioFiles } from '../../src/scenarios/build.js';

const PACK = path.join(PROJECT_ROOT, 'cds-services');
const SCENARIOS = path.join(PROJECT_ROOT, 'fixtures', 'scenarios');

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out, err: err.join('\n'), last: out.at(-1) };
}

/** A copy of the shipped pack, used as CDS_SERVICES_DIR. */
function packCopy(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'ldn-pack-')), 'cds-services');
  cpSync(PACK, dir, { recursive: true });
  vi.stubEnv('CDS_SERVICES_DIR', dir);
  return dir;
}

const edit = (file: string, change: (text: string) => string) => writeFileSync(file, change(readFileSync(file, 'utf8')));
/** The shipped pack's version (read, so a bump changes nothing here). */
const PACK_VERSION = (readFileSync(path.join(PACK, 'knowledge.yaml'), 'utf8').match(/^version: (.*)$/m) ?? [])[1]!;
const bumpPack = (dir: string, to = '99.0.0') => edit(path.join(dir, 'knowledge.yaml'), (t) => t.replace(/^version: .*$/m, `version: ${to}`));

afterEach(() => {
  vi.unstubAllEnvs();
});

/** A rule the project has never seen, matching free text: outside the compiled FHIRPath subset. */
const TEXT_MATCH_RULE = `# When  naltrexone is ordered and the medication list names a (made-up) test product in its text
# Then  info: test rule for a text match
id: naltrexone-with-test-product-text
title: Naltrexone ordered while the list names the test product
version: 1.0.0
concern: naltrexone-test-product-text
hooks: [order-select, order-sign]
bind:
  ordered: "%focus.where(isNaltrexone)"
  named: "%medications.where(current and label.lower().contains('example antagonist'))"
when: [ordered, named]
card:
  indicator: info
  summary: "Test product named on the list: {{named.label}}"
  detail: |
    The medication list names {{named}}.
  evidence: [naltrexone-label-contraindications]
`;

const TEXT_MATCH_SCENARIO = `description: text-match rule
now: 2026-11-21T09:00:00Z
cases:
  - name: LDN ordered, the test product on the list → the text-match card
    medications:
      - { text: Example Antagonist 10 mg tablet (test fixture), started: 10 days ago }
    orders:
      - { text: Naltrexone 4.5 mg capsule (compounded), dose: 4.5 mg, when: HS }
    expect: [{ rule: naltrexone-with-test-product-text, indicator: info }, { rule: ldn-dosing-guidance, indicator: info }]
  - name: LDN ordered, nothing named → no text-match card
    orders:
      - { text: Naltrexone 4.5 mg capsule (compounded), dose: 4.5 mg, when: HS }
    expect: [{ rule: ldn-dosing-guidance, indicator: info }]
`;

describe('ldn-cds test', () => {
  test('the shipped pack: one line per case, the lock checked, last line "N passed, 0 failed", exit 0', async () => {
    const cases = loadScenarioFiles(SCENARIOS).reduce((n, f) => n + f.scenario.cases.length, 0);
    const r = await run('test', SCENARIOS);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^✓ knowledge\.lock\.json: every rule as reviewed/);
    expect(r.out.filter((l) => l.startsWith('✓ ') && l.includes('.yaml: '))).toHaveLength(cases);
    expect(r.last).toBe(`${cases + 1} passed, 0 failed`);
  });

  test('a new text-match rule with its scenario: refused until the pack is bumped and locked, then green', async () => {
    const dir = packCopy();
    writeFileSync(path.join(dir, 'rules', 'naltrexone-with-test-product-text.yaml'), TEXT_MATCH_RULE);
    edit(path.join(dir, 'services', 'ldn-order.yaml'), (t) => t.replace('  - naltrexone-duplicate-order\n', '  - naltrexone-duplicate-order\n  - naltrexone-with-test-product-text\n'));
    const scenario = path.join(path.dirname(dir), 'text-match.yaml');
    writeFileSync(scenario, TEXT_MATCH_SCENARIO);

    const unlocked = await run('test', scenario);
    expect(unlocked.code).toBe(1);
    expect(unlocked.out).toContain(
      `✗ knowledge.yaml: version: rules changed (naltrexone-with-test-product-text) but the pack version is ${PACK_VERSION}, as locked (${PACK_VERSION}): bump it, then run \`npx ldn-cds lock\``,
    );
    expect(unlocked.out.some((l) => l.startsWith('✗ rules/naltrexone-with-test-product-text.yaml: new rule'))).toBe(true);
    expect(unlocked.out.filter((l) => l.startsWith('✓ ') && l.includes('text-match.yaml: '))).toHaveLength(2);
    expect(unlocked.last).toBe('2 passed, 2 failed');

    // lock refuses while the pack version is not bumped
    const refused = await run('lock');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/not written:\n {2}- knowledge\.yaml: version: rules changed \(naltrexone-with-test-product-text\)/);

    bumpPack(dir);
    const locked = await run('lock');
    expect(locked.code, locked.err).toBe(0);
    expect(locked.out).toContain('recorded: rules/naltrexone-with-test-product-text.yaml: new rule "naltrexone-with-test-product-text" (version 1.0.0) is not in knowledge.lock.json');
    expect(locked.last).toMatch(/^knowledge\.lock\.json: \d+ rules, pack 99\.0\.0$/);
    expect(JSON.parse(readFileSync(path.join(dir, 'knowledge.lock.json'), 'utf8')).rules['naltrexone-with-test-product-text'].version).toBe('1.0.0');

    const green = await run('test', scenario);
    expect(green.out.join('\n')).not.toContain('✗');
    expect(green.code).toBe(0);
    expect(green.last).toBe('3 passed, 0 failed');
  });

  test('a changed rule without a version bump fails, naming the rule, and lock will not record it', async () => {
    const dir = packCopy();
    edit(path.join(dir, 'rules', 'ldn-with-opioid.yaml'), (t) => t.replace('indicator: critical', 'indicator: warning'));
    bumpPack(dir);
    const r = await run('test', path.join(SCENARIOS, 'ldn-with-opioid.yaml'));
    expect(r.code).toBe(1);
    const locked = JSON.parse(readFileSync(path.join(PACK, 'knowledge.lock.json'), 'utf8')).rules['ldn-with-opioid'].version as string;
    expect(r.out).toContain(
      `✗ rules/ldn-with-opioid.yaml: version: rule "ldn-with-opioid" changed since it was locked at version ${locked}, but its version is ${locked}: bump it (patch for wording, minor for a new condition or card change, major for a change of meaning), then run \`npx ldn-cds lock\``,
    );
    expect(r.last).toMatch(/^\d+ passed, [1-9]\d* failed$/);
    const refused = await run('lock');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('rules/ldn-with-opioid.yaml: version: rule "ldn-with-opioid" changed');
    // Layout and comments inside the body are not content: only meaning is.
    const other = packCopy();
    edit(path.join(other, 'rules', 'ldn-with-opioid.yaml'), (t) => t.replace('\nhooks:', '\n\n# a reviewer note\nhooks:'));
    expect((await run('test', path.join(SCENARIOS, 'ldn-with-opioid.yaml'))).code).toBe(0);
  });

  test('a broken pack: every problem listed, as at start-up, nothing run, exit 1', async () => {
    const dir = packCopy();
    edit(path.join(dir, 'rules', 'ldn-with-opioid.yaml'), (t) => t.replace('indicator: critical', 'indicator: severe'));
    bumpPack(dir, 'one');
    const r = await run('test');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Invalid knowledge in /);
    expect(r.err).toContain('rules/ldn-with-opioid.yaml: card.indicator:');
    expect(r.err).toContain('knowledge.yaml: version: must be a semantic version');
    expect(r.out).toEqual([]);
  });

  test('a case whose cards differ fails with what differed; a missing path or a bad scenario file is a usage error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ldn-scenario-'));
    const file = path.join(dir, 'wrong.yaml');
    writeFileSync(
      file,
      `${TEXT_MATCH_SCENARIO}  - name: expects a rule that does not exist\n    orders: [{ text: Naltrexone 1.5 mg capsule (compounded), dose: 1.5 mg, when: HS }]\n    expect: [{ rule: no-such-rule, indicator: info }]\n`,
    );
    const r = await run('test', file);
    expect(r.code).toBe(1);
    expect(r.out).toContainEqual(expect.stringMatching(new RegExp(`^✗ ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: expects a rule that does not exist: expected no-such-rule:info; got `)));
    expect(r.out.filter((l) => l.startsWith(`✗ ${file}: `)).length).toBeGreaterThan(0);
    expect(r.last).toMatch(/^\d+ passed, [1-9]\d* failed$/);
    const missing = await run('test', path.join(dir, 'nope.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/Cannot read .*nope\.yaml/);
    writeFileSync(file, 'description: x\nnow: 2026-11-21T09:00:00Z\ncases:\n  - name: no expectation\n');
    const bad = await run('test', file);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/wrong\.yaml is not a valid scenario file: cases\[0\]\.expect/);
  });

  test('--help for both commands, and the main usage lists them', async () => {
    expect((await run('test', '--help')).out[0]).toMatch(/^Usage: ldn-cds test \[PATH…\]/);
    expect((await run('lock', '--help')).out[0]).toMatch(/^Usage: ldn-cds lock/);
    expect((await run('--help')).out[0]).toMatch(/ldn-cds test \[PATH…\] \| ldn-cds lock/);
    expect((await run('lock', 'extra')).code).toBe(2);
  });
});
