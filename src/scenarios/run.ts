/**
 * Running scenario cases against a knowledge pack, in process: the one runner behind `ldn-cds test`,
 * `ldn-cds evaluate <scenario file>` and tests/scenarios/scenarios.test.ts. A case passes when the cards are exactly
 * the expected (rule, indicator) pairs and each expected card says (and never says) the words listed.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config/index.js';
import { createEngine, type Engine, type Evaluation } from '../engine/index.js';
import type { Knowledge } from '../engine/knowledge.js';
import { issueText } from '../model/problems.js';
import type { ServiceDefinition } from '../knowledge/services.js';
import { createLogger } from '../observability/logger.js';
import type { RenderedCard } from '../cards/render.js';
import { hookRequest, loadScenarioFiles, ScenarioFile, type ScenarioCase } from './build.js';

/** What a case expects (a scenario case's `expect`). */
export type Expectation = ScenarioCase['expect'][number];

/** `rule:indicator` of each card, sorted: what a case's `expect` is compared with. */
export function cardKeys(rendered: readonly RenderedCard[]): string[] {
  return rendered.map((r) => `${r.draft.ruleId}:${r.card.indicator}`).sort();
}

/** Every way the cards differ from the expectation, in words; empty when they match. */
export function expectationProblems(expect: readonly Expectation[], rendered: readonly RenderedCard[]): string[] {
  const got = cardKeys(rendered);
  const want = expect.map((e) => `${e.rule}:${e.indicator}`).sort();
  if (got.length !== want.length || got.some((g, i) => g !== want[i])) {
    return [`expected ${want.join(', ') || 'no cards'}; got ${got.join(', ') || 'no cards'}`];
  }
  const problems: string[] = [];
  for (const e of expect) {
    const card = rendered.find((r) => r.draft.ruleId === e.rule)!.card;
    const text = `${card.summary}\n${card.detail ?? ''}`.replace(/\s+/g, ' ');
    for (const words of e.says ?? []) if (!text.includes(words)) problems.push(`${e.rule} does not say "${words}"`);
    for (const words of e.neverSays ?? []) if (text.includes(words)) problems.push(`${e.rule} says "${words}", which it must never say`);
  }
  return problems;
}

/** Evaluate one hook request (already built) as the HTTP service would, on the service of its hook. */
export async function evaluateRequest(engine: Engine, request: Record<string, unknown>, serviceId?: string): Promise<{ service: ServiceDefinition; evaluation: Evaluation }> {
  const { knowledge } = engine;
  const hook = String(request.hook);
  const endpoint = knowledge.services.endpoint(serviceId ?? knowledge.services.all().find((s) => s.hook === hook)?.id ?? '');
  if (!endpoint) {
    throw new ScenarioError(
      serviceId ? `No service "${serviceId}"` : `No service serves hook "${hook}" (this knowledge serves ${knowledge.services.all().map((s) => s.hook).join(', ')})`,
    );
  }
  const { service, evaluation } = await engine.call(endpoint.id, request);
  return { service, evaluation };
}

/** A scenario that cannot be run (no service for its hook, an unreadable file): named, never a silent pass. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

export interface CaseResult {
  file: string;
  name: string;
  problems: string[];
  service: ServiceDefinition;
  evaluation: Evaluation;
}

/** An engine for scenario runs at `now`: nothing stored or suppressed, no memo (each case stands alone). */
export function scenarioEngine(knowledge: Knowledge, config: Config, now: Date): Engine {
  return createEngine(knowledge, { config, logger: createLogger('silent'), now: () => now, memoChars: 0 });
}

/** Run one case with `engine` (whose clock is the scenario's `now`, or `at`). */
export async function runCase(engine: Engine, file: string, c: ScenarioCase, at: Date): Promise<CaseResult> {
  const { service, evaluation } = await evaluateRequest(engine, hookRequest(c, at));
  return { file, name: c.name, service, evaluation, problems: expectationProblems(c.expect, evaluation.rendered) };
}

/** Read one scenario file (YAML), validated; throws ScenarioError naming the file and the field. */
export function readScenarioFile(file: string): ScenarioFile {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ScenarioError(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = ScenarioFile.safeParse(data);
  if (!parsed.success) throw new ScenarioError(`${file} is not a valid scenario file: ${parsed.error.issues.map(issueText).join('; ')}`);
  return parsed.data;
}

/** The scenario files named by `paths` (files, or folders of *.yaml), each with its display name. */
export function scenarioFiles(paths: readonly string[]): { file: string; scenario: ScenarioFile }[] {
  return paths.flatMap((p) => {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      throw new ScenarioError(`Cannot read ${p}: ${(e as Error).message}`);
    }
    if (!isDir) return [{ file: p, scenario: readScenarioFile(p) }];
    try {
      return loadScenarioFiles(p).map(({ file, scenario }) => ({ file: path.join(p, file), scenario }));
    } catch (e) {
      throw new ScenarioError(`${p}/${(e as Error).message}`);
    }
  });
}

/** Run every case of every file, each file at its own `now`; `onCase` sees each result as it comes. */
export async function runScenarios(
  knowledge: Knowledge,
  config: Config,
  files: readonly { file: string; scenario: ScenarioFile }[],
  onCase: (result: CaseResult) => void = () => {},
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const { file, scenario } of files) {
    const now = new Date(scenario.now);
    const engine = scenarioEngine(knowledge, config, now);
    for (const c of scenario.cases) {
      const result = await runCase(engine, file, c, now);
      results.push(result);
      onCase(result);
    }
  }
  return results;
}
