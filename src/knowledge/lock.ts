/**
 * The knowledge lock (cds-services/knowledge.lock.json): the pack version and, per rule, its version and a digest of
 * its normalised content, as last reviewed. It lets a reviewer trust that every change to a rule's meaning came with
 * a version bump of the rule and of the pack (cards and the audit log record both):
 * - a rule whose content changed while its version did not is refused, naming the rule;
 * - rules that changed (or were added or removed) while the pack version did not are refused, naming them;
 * - a bumped change not yet recorded asks for `npx ldn-cds lock`, which rewrites the lock only when nothing above
 *   is wrong (it never records an unbumped change).
 * `ldn-cds test` and tests/knowledge/lock.test.ts check it; the service itself does not (a deployment may run a
 * pack without a lock).
 *
 * Normalised content: the parsed YAML without `version` (so layout, quoting and key order do not count), plus the
 * When/Then header comment (it is shown on the rule's evidence page), whitespace collapsed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { leadingComment } from './read-yaml.js';
import type { KnowledgeProblem } from '../model/problems.js';

export const LOCK_FILE = 'knowledge.lock.json';

export interface KnowledgeLock {
  pack: { version: string };
  rules: Record<string, { version: string; digest: string }>;
}

/** A lock problem: `blocking` ones need an author's fix (a version bump); the others, `ldn-cds lock`. */
export interface LockProblem extends KnowledgeProblem {
  blocking: boolean;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** The digest of a rule file's normalised content (see the header), "sha256:<hex>". */
export function ruleDigest(text: string): string {
  const data = parseYaml(text) as Record<string, unknown>;
  const { version: _version, ...content } = data ?? {};
  const header = leadingComment(text).join(' ').replace(/\s+/g, ' ').trim();
  return `sha256:${createHash('sha256').update(JSON.stringify(canonical({ header, content }))).digest('hex')}`;
}

/** The lock as the knowledge folder `dir` is now (the pack must have loaded: files are read, not validated). */
export function currentLock(dir: string): KnowledgeLock {
  const meta = parseYaml(readFileSync(path.join(dir, 'knowledge.yaml'), 'utf8')) as { version: string };
  const rules: KnowledgeLock['rules'] = {};
  for (const name of readdirSync(path.join(dir, 'rules')).filter((n) => n.endsWith('.yaml')).sort()) {
    const text = readFileSync(path.join(dir, 'rules', name), 'utf8');
    const { id, version } = parseYaml(text) as { id: string; version: string };
    rules[id] = { version: String(version), digest: ruleDigest(text) };
  }
  return { pack: { version: String(meta.version) }, rules };
}

/** -1, 0 or 1 as semantic version `a` is below, equal to or above `b` (major.minor.patch; anything after is ignored). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => (/^(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1, 4).map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

function readLock(file: string): KnowledgeLock | string {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return `cannot be read as JSON: ${(e as Error).message}`;
  }
  const lock = data as Partial<KnowledgeLock> | null;
  if (!lock || typeof lock.pack?.version !== 'string' || typeof lock.rules !== 'object' || lock.rules === null) {
    return 'is not a knowledge lock ({ "pack": { "version" }, "rules": { id: { "version", "digest" } } })';
  }
  return lock as KnowledgeLock;
}

/** Everything that differs between the knowledge folder and its lock file; empty when the lock is current. */
export function lockProblems(dir: string): LockProblem[] {
  const file = path.join(dir, LOCK_FILE);
  if (!existsSync(file)) return [{ file: LOCK_FILE, field: '', message: 'missing: after review, run `npx ldn-cds lock` to create it', blocking: false }];
  const locked = readLock(file);
  if (typeof locked === 'string') return [{ file: LOCK_FILE, field: '', message: `${locked}; rewrite it with \`npx ldn-cds lock\``, blocking: false }];
  const now = currentLock(dir);
  const problems: LockProblem[] = [];
  const changed: string[] = [];
  for (const [id, rule] of Object.entries(now.rules)) {
    const before = locked.rules[id];
    const label = `rules/${id}.yaml`;
    if (!before) {
      changed.push(id);
      problems.push({ file: label, field: '', message: `new rule "${id}" (version ${rule.version}) is not in ${LOCK_FILE}: after review, run \`npx ldn-cds lock\``, blocking: false });
    } else if (before.digest !== rule.digest) {
      changed.push(id);
      if (compareVersions(rule.version, before.version) <= 0) {
        problems.push({
          file: label,
          field: 'version',
          message: `rule "${id}" changed since it was locked at version ${before.version}, but its version is ${rule.version}: bump it (patch for wording, minor for a new condition or card change, major for a change of meaning), then run \`npx ldn-cds lock\``,
          blocking: true,
        });
      } else {
        problems.push({ file: label, field: '', message: `rule "${id}" changed (${before.version} → ${rule.version}) and is not yet recorded in ${LOCK_FILE}: after review, run \`npx ldn-cds lock\``, blocking: false });
      }
    } else if (before.version !== rule.version) {
      problems.push({ file: label, field: 'version', message: `rule "${id}" has version ${rule.version} but ${LOCK_FILE} records ${before.version} for the same content: after review, run \`npx ldn-cds lock\``, blocking: false });
    }
  }
  for (const id of Object.keys(locked.rules)) {
    if (!now.rules[id]) {
      changed.push(id);
      problems.push({ file: `rules/${id}.yaml`, field: '', message: `rule "${id}" was removed since ${LOCK_FILE} was written: after review, run \`npx ldn-cds lock\``, blocking: false });
    }
  }
  const packBumped = compareVersions(now.pack.version, locked.pack.version) > 0;
  if (changed.length > 0 && !packBumped) {
    problems.unshift({
      file: 'knowledge.yaml',
      field: 'version',
      message: `rules changed (${changed.join(', ')}) but the pack version is ${now.pack.version}, as locked (${locked.pack.version}): bump it, then run \`npx ldn-cds lock\``,
      blocking: true,
    });
  } else if (now.pack.version !== locked.pack.version && changed.length === 0) {
    problems.push({ file: 'knowledge.yaml', field: 'version', message: `the pack version is ${now.pack.version} but ${LOCK_FILE} records ${locked.pack.version}: after review, run \`npx ldn-cds lock\``, blocking: false });
  }
  return problems;
}

/** Rewrite the lock from the folder as it is, unless a problem needs the author first (then nothing is written). */
export function writeLock(dir: string): { written: boolean; problems: LockProblem[]; lock: KnowledgeLock } {
  const problems = lockProblems(dir).filter((p) => p.blocking);
  const lock = currentLock(dir);
  if (problems.length > 0) return { written: false, problems, lock };
  writeFileSync(path.join(dir, LOCK_FILE), `${JSON.stringify(lock, null, 2)}\n`);
  return { written: true, problems: [], lock };
}
