/**
 * The knowledge author's commands (docs/knowledge-authoring.md):
 *   ldn-cds test [PATH…]   validate the pack, check its lock, run scenario files (default fixtures/scenarios/)
 *   ldn-cds lock           record the reviewed rule versions and digests in cds-services/knowledge.lock.json
 * The pack is CDS_SERVICES_DIR (default cds-services/). Everything runs in process: no server, no database.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { KnowledgeError } from './model/problems.js';
import { loadKnowledge, type Knowledge } from './engine/knowledge.js';
import { LOCK_FILE, lockProblems, writeLock, type LockProblem } from './knowledge/lock.js';
import { runScenarios, scenarioFiles, ScenarioError } from './scenarios/run.js';

type Out = (s: string) => void;

export const TEST_USAGE = `Usage: ldn-cds test [PATH…]

  Checks the knowledge pack (CDS_SERVICES_DIR, default cds-services/) the way a reviewer would:
  1. loads it exactly as the service does at start-up: every problem is listed, and nothing runs if there is one;
  2. compares it with ${LOCK_FILE}: a rule changed without a version bump, or rules changed without a
     pack version bump, fails, naming the rule (record a reviewed, bumped change with \`ldn-cds lock\`);
  3. runs every case of the scenario files: PATH is a scenario file (YAML) or a folder of them
     (default fixtures/scenarios/). One line per case, then "N passed, M failed".

Exit codes: 0 all passed, 1 a problem or a failed case, 2 bad usage.`;

export const LOCK_USAGE = `Usage: ldn-cds lock

  After a reviewed change to rules: records each rule's version and content digest, and the pack version, in
  ${LOCK_FILE} (commit it with the change). Refuses, naming the rule, when a changed rule's version or
  the pack version was not bumped. The pack must load without errors first.

Exit codes: 0 written, 1 refused, 2 bad usage.`;

function formatProblem(p: { file: string; field: string; message: string }): string {
  return `${p.file}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

/** The configuration and the pack, or the exit code after printing why not. */
function loadPack(err: Out): { config: Config; knowledge: Knowledge } | number {
  try {
    const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
    return { config, knowledge: loadKnowledge(config.cdsServicesDir) };
  } catch (e) {
    if (e instanceof KnowledgeError || e instanceof ConfigError) {
      err(e.message);
      return 1;
    }
    throw e;
  }
}

function args(argv: string[], err: Out, usage: string): { help: boolean; paths: string[] } | number {
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
    return { help: values.help === true, paths: positionals };
  } catch (e) {
    err(`${(e as Error).message}\n\n${usage}`);
    return 2;
  }
}

export async function testCommand(argv: string[], out: Out, err: Out): Promise<number> {
  const parsed = args(argv, err, TEST_USAGE);
  if (typeof parsed === 'number') return parsed;
  if (parsed.help) {
    out(TEST_USAGE);
    return 0;
  }
  const pack = loadPack(err);
  if (typeof pack === 'number') return pack;
  const { config, knowledge } = pack;
  let files;
  try {
    files = scenarioFiles(parsed.paths.length ? parsed.paths : [path.join('fixtures', 'scenarios')]);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    err(e.message);
    return 2;
  }
  let passed = 0;
  let failed = 0;
  const lock: LockProblem[] = lockProblems(knowledge.dir);
  for (const p of lock) out(`✗ ${formatProblem(p)}`);
  failed += lock.length;
  if (lock.length === 0) {
    out(`✓ ${LOCK_FILE}: every rule as reviewed (pack ${knowledge.version})`);
    passed++;
  }
  try {
    await runScenarios(knowledge, config, files, (r) => {
      if (r.problems.length === 0) {
        passed++;
        out(`✓ ${r.file}: ${r.name}`);
      } else {
        failed++;
        out(`✗ ${r.file}: ${r.name}: ${r.problems.join('; ')}`);
      }
    });
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    err(e.message);
    failed++;
  }
  out(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

export async function lockCommand(argv: string[], out: Out, err: Out): Promise<number> {
  const parsed = args(argv, err, LOCK_USAGE);
  if (typeof parsed === 'number') return parsed;
  if (parsed.help) {
    out(LOCK_USAGE);
    return 0;
  }
  if (parsed.paths.length > 0) {
    err(`lock takes no PATH (the pack is CDS_SERVICES_DIR).\n\n${LOCK_USAGE}`);
    return 2;
  }
  const pack = loadPack(err);
  if (typeof pack === 'number') return pack;
  const before = lockProblems(pack.knowledge.dir);
  const result = writeLock(pack.knowledge.dir);
  if (!result.written) {
    err(`${LOCK_FILE} not written:\n${result.problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    return 1;
  }
  // What was recorded, without the "run `npx ldn-cds lock`" advice that was just followed.
  for (const p of before) out(`recorded: ${formatProblem({ ...p, message: p.message.replace(/:? ?(after review, )?(run|rewrite it with) `npx ldn-cds lock`.*$/, '') })}`);
  out(`${LOCK_FILE}: ${Object.keys(result.lock.rules).length} rules, pack ${result.lock.pack.version}${before.length ? '' : ' (unchanged)'}`);
  return 0;
}
