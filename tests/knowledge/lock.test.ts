/**
 * The knowledge lock (src/knowledge/lock.ts): the shipped pack matches its committed knowledge.lock.json, and every
 * kind of drift is named. This is the CI half of the governance (`ldn-cds test` is the author's half).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { compareVersions, currentLock, LOCK_FILE, lockProblems, ruleDigest, writeLock } from '../../src/knowledge/lock.js';

const PACK = path.join(PROJECT_ROOT, 'cds-services');
const format = (p: { file: string; field: string; message: string }) => `${p.file}: ${p.field ? `${p.field}: ` : ''}${p.message}`;

function copy(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'ldn-lock-')), 'cds-services');
  cpSync(PACK, dir, { recursive: true });
  return dir;
}
const edit = (file: string, change: (text: string) => string) => writeFileSync(file, change(readFileSync(file, 'utf8')));
const bumpPack = (dir: string) => edit(path.join(dir, 'knowledge.yaml'), (t) => t.replace(/^version: .*$/m, 'version: 99.0.0'));

test('the shipped pack matches its committed lock (a changed rule needs a version bump, then `npx ldn-cds lock`)', () => {
  expect(lockProblems(PACK).map(format)).toEqual([]);
  const lock = JSON.parse(readFileSync(path.join(PACK, LOCK_FILE), 'utf8'));
  expect(lock).toEqual(currentLock(PACK));
});

describe('drift is named', () => {
  test('a rule changed with its version bumped but the pack version not', () => {
    const dir = copy();
    edit(path.join(dir, 'rules', 'ldn-with-interferon-beta.yaml'), (t) => t.replace(/^version: .*$/m, 'version: 9.0.0').replace('indicator: warning', 'indicator: info'));
    expect(lockProblems(dir).map((p) => [format(p), p.blocking])).toEqual([
      [expect.stringMatching(/^knowledge\.yaml: version: rules changed \(ldn-with-interferon-beta\) but the pack version is /), true],
      [expect.stringMatching(/^rules\/ldn-with-interferon-beta\.yaml: rule "ldn-with-interferon-beta" changed \(.+ → 9\.0\.0\) and is not yet recorded/), false],
    ]);
    expect(writeLock(dir).written).toBe(false);
    bumpPack(dir);
    expect(writeLock(dir).written).toBe(true);
    expect(lockProblems(dir)).toEqual([]);
  });

  test('a version lowered counts as not bumped', () => {
    const dir = copy();
    edit(path.join(dir, 'rules', 'ldn-with-opioid.yaml'), (t) => t.replace(/^version: .*$/m, 'version: 0.0.1').replace('indicator: critical', 'indicator: warning'));
    bumpPack(dir);
    expect(lockProblems(dir).map(format)).toEqual([expect.stringMatching(/^rules\/ldn-with-opioid\.yaml: version: rule "ldn-with-opioid" changed since it was locked at version .*, but its version is 0\.0\.1: bump it/)]);
  });

  test('a removed rule, a version bumped without a change, a pack bumped alone: each asks for ldn-cds lock', () => {
    const dir = copy();
    rmSync(path.join(dir, 'rules', 'ldn-dosing-guidance.yaml'));
    edit(path.join(dir, 'rules', 'ldn-with-opioid.yaml'), (t) => t.replace(/^version: .*$/m, 'version: 9.9.9'));
    const problems = lockProblems(dir).map(format);
    expect(problems).toContain('rules/ldn-with-opioid.yaml: version: rule "ldn-with-opioid" has version 9.9.9 but knowledge.lock.json records ' + currentLock(PACK).rules['ldn-with-opioid']!.version + ' for the same content: after review, run `npx ldn-cds lock`');
    expect(problems).toContain('rules/ldn-dosing-guidance.yaml: rule "ldn-dosing-guidance" was removed since knowledge.lock.json was written: after review, run `npx ldn-cds lock`');
    expect(problems[0]).toMatch(/^knowledge\.yaml: version: rules changed \(ldn-dosing-guidance\)/);

    const packOnly = copy();
    bumpPack(packOnly);
    expect(lockProblems(packOnly).map(format)).toEqual([`knowledge.yaml: version: the pack version is 99.0.0 but knowledge.lock.json records ${currentLock(PACK).pack.version}: after review, run \`npx ldn-cds lock\``]);
  });

  test('a missing or unreadable lock', () => {
    const dir = copy();
    rmSync(path.join(dir, LOCK_FILE));
    expect(lockProblems(dir).map(format)).toEqual(['knowledge.lock.json: missing: after review, run `npx ldn-cds lock` to create it']);
    writeFileSync(path.join(dir, LOCK_FILE), '{"rules": 1');
    expect(lockProblems(dir).map(format)[0]).toMatch(/^knowledge\.lock\.json: cannot be read as JSON: .*; rewrite it with `npx ldn-cds lock`$/);
    writeFileSync(path.join(dir, LOCK_FILE), '{"rules": {}}');
    expect(lockProblems(dir).map(format)[0]).toMatch(/^knowledge\.lock\.json: is not a knowledge lock/);
    expect(writeLock(dir).written).toBe(true);
    expect(lockProblems(dir)).toEqual([]);
  });
});

describe('the digest is of meaning, not layout', () => {
  const text = readFileSync(path.join(PACK, 'rules', 'ldn-with-opioid.yaml'), 'utf8');
  test('key order, quoting, blank lines, comments in the body and the version do not count', () => {
    const relaid = text.replace(/^version: .*$/m, 'version: 7.7.7').replace('\nhooks:', '\n\n# a note\nhooks:');
    expect(ruleDigest(relaid)).toBe(ruleDigest(text));
    expect(ruleDigest('id: a\nversion: 1.0.0\nconcern: "b"\n')).toBe(ruleDigest("concern: b\nid: 'a'\nversion: 2.0.0\n"));
  });
  test('a word of the card, a parameter, or the When/Then header does count', () => {
    expect(ruleDigest(text.replace('Contraindicated:', 'Contraindicated now:'))).not.toBe(ruleDigest(text));
    expect(ruleDigest(text.replace(/^# When/m, '# When also'))).not.toBe(ruleDigest(text));
    expect(ruleDigest('id: a\nparameters: { n: 1 }\n')).not.toBe(ruleDigest('id: a\nparameters: { n: 2 }\n'));
  });
  test('versions compare as numbers', () => {
    expect(compareVersions('1.10.0', '1.9.0')).toBe(1);
    expect(compareVersions('1.0.0', '1.0.0')).toBe(0);
    expect(compareVersions('0.9.9', '1.0.0')).toBe(-1);
  });
});
