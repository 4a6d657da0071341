/**
 * The compiled FHIRPath closures (src/rules/fhirpath-compiled.ts) against fhirpath.js, the reference they must match:
 * - every expression of every shipped rule file, over the facts of every scenario, with the variables the rule
 *   engine passes: a compiled one without ever falling back, one outside the subset as fhirpath.js evaluates it
 *   (any valid FHIRPath is allowed in a rule; the compiled subset is only an optimisation, never a requirement);
 * - a table of hand-written expressions (each operator with empty, single and multiple items, both boolean
 *   values, errors) over a few hundred random fact sets from a seeded PRNG;
 * - an unsupported construct (string functions included) is left to fhirpath.js and gives its answer.
 * "Equal" means deep-equal with the same object references, in the same order; an error on one side needs
 * an error on the other. The closures may hand a call to fhirpath.js; where that is not expected, it fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fhirpath from 'fhirpath';
import { parse as parseYaml } from 'yaml';
import { describe, expect, test } from 'vitest';
import type { PatientFacts } from '../../src/model/facts.js';
import { deepFreeze } from '../../src/model/cache.js';
import { loadValueSets } from '../../src/clinical/valuesets.js';
import { testConfig } from '../../src/config/index.js';
import { createEngine } from '../../src/engine/index.js';
import { parseHookRequest } from '../../src/hooks/request.js';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { createLogger } from '../../src/observability/logger.js';
import { compileFast, isCompiled, type FhirPathNode } from '../../src/rules/fhirpath-compiled.js';
import { compileExpression, compileWithFhirpathJs, isTrue, type Expression, type Variables } from '../../src/rules/fhirpath.js';
import { RuleFileSchema, type RuleFile } from '../../src/rules/rule-file.js';
import { hookRequest, loadScenarioFiles } from '../../src/scenarios/build.js';
import { KNOWLEDGE_DIR, REPO_ROOT } from './project-rules.js';
import { prng } from '../helpers/prng.js';

// ---- the two evaluations of one expression ----------------------------------------------------------------------

type Outcome = { kind: 'value'; value: unknown[] } | { kind: 'error'; error: unknown } | { kind: 'fell-back' };

const FELL_BACK = new Error('the compiled closure handed this call to fhirpath.js');

interface Pair {
  expression: string;
  /** The closure alone: its fallback throws FELL_BACK instead of asking fhirpath.js. */
  compiled: Expression;
  /** The closure as compileExpression() builds it: falling back to fhirpath.js. */
  full: Expression;
  reference: Expression;
}

function pair(expression: string): Pair {
  const reference = compileWithFhirpathJs(expression);
  const ast = fhirpath.parse(expression) as FhirPathNode;
  const compiled = compileFast(ast, () => {
    throw FELL_BACK;
  });
  const full = compileFast(ast, reference);
  if (!compiled || !full) throw new Error(`not compiled: ${expression}`);
  return { expression, compiled, full, reference };
}

function run(evaluate: Expression, facts: PatientFacts, variables: Variables): Outcome {
  try {
    return { kind: 'value', value: evaluate(facts, variables) };
  } catch (error) {
    return error === FELL_BACK ? { kind: 'fell-back' } : { kind: 'error', error };
  }
}

/** Same length, and each item the same object (or the same primitive, -0 and NaN included). */
function sameItems(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((item, i) => Object.is(item, b[i]));
}

/** Compare the outcomes with fhirpath.js's; returns the closure's own outcome. Fails the test when they differ. */
function check(p: Pair, facts: PatientFacts, variables: Variables, where: string): Outcome['kind'] {
  const compiled = run(p.compiled, facts, variables);
  const reference = run(p.reference, facts, variables);
  const label = `${p.expression} on ${where}`;
  if (compiled.kind === 'value') {
    if (reference.kind === 'error') throw new Error(`${label}: fhirpath.js throws (${String(reference.error)}) but the closure returns ${JSON.stringify(compiled.value)}`);
    if (reference.kind === 'value') {
      expect(compiled.value, label).toEqual(reference.value);
      expect(sameItems(compiled.value, reference.value), `${label}: items are not the same objects`).toBe(true);
    }
  } else if (compiled.kind === 'error') {
    expect(reference.kind, `${label}: the closure throws ${String(compiled.error)}`).toBe('error');
  }
  // With its fallback, the closure gives fhirpath.js's answer, or throws when fhirpath.js throws.
  const full = run(p.full, facts, variables);
  expect(full.kind, label).toBe(reference.kind);
  if (full.kind === 'value' && reference.kind === 'value') {
    expect(full.value, label).toEqual(reference.value);
    expect(sameItems(full.value, reference.value), `${label}: items are not the same objects`).toBe(true);
  }
  return compiled.kind;
}

const hasError = (p: Pair, facts: PatientFacts, variables: Variables): boolean => run(p.reference, facts, variables).kind === 'error';

function factVariables(facts: PatientFacts, parameters: Record<string, unknown> = {}): Variables {
  return { focus: facts.focus, orders: facts.orders, medications: facts.medications, conditions: facts.conditions, now: facts.now, hook: facts.hook, ...parameters };
}

// ---- the shipped rules over the scenarios -----------------------------------------------------------------------

const RULES_DIR = path.join(KNOWLEDGE_DIR, 'rules');
const ruleFiles: { name: string; file: RuleFile }[] = readdirSync(RULES_DIR)
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => ({ name, file: RuleFileSchema.parse(parseYaml(readFileSync(path.join(RULES_DIR, name), 'utf8'))) }));

/** Every FHIRPath expression of a rule file, in evaluation order: the bindings, then the findings' conditions. */
function expressionsOf(file: RuleFile): { field: string; expression: string; binding?: string }[] {
  return [
    ...Object.entries(file.bind).map(([name, expression]) => ({ field: `bind.${name}`, expression, binding: name })),
    ...(file.card.findings ?? []).map((f, i) => ({ field: `card.findings[${i}].if`, expression: f.if })),
  ];
}

/** Expressions of tests/rules/*.test.ts (fhirpath.test.ts) that are not in a rule file. */
const TEST_EXPRESSIONS = [
  '%medications.where(isOpioid and current)',
  '%medications.where(past)',
  '%medications.where(current)',
  "%medications.where(name = 'tramadol 50 mg').exists(past)",
  '%medications.exists(past)',
  '%medications.where(daysSinceLastUse <= 14)',
  '%washoutDays > 3',
];

/** The pack's value sets, for rules using memberOf('<url>'). */
const VALUE_SETS = loadValueSets(path.join(KNOWLEDGE_DIR, 'valuesets'));

const allowedOf = (file: RuleFile): Set<string> => new Set([...Object.keys(file.parameters), ...Object.keys(file.bind)]);

/** The compiled/reference pair of a shipped expression, or undefined when it is outside the compiled subset. */
function shippedPair(file: RuleFile, expression: string): Pair | undefined {
  return isCompiled(compileExpression(expression, allowedOf(file), VALUE_SETS)) ? pair(expression) : undefined;
}

async function scenarioFacts(): Promise<{ label: string; facts: PatientFacts }[]> {
  const config = testConfig();
  const knowledge = loadKnowledge(config.cdsServicesDir);
  const out: { label: string; facts: PatientFacts }[] = [];
  for (const { file, scenario } of loadScenarioFiles(path.join(REPO_ROOT, 'fixtures', 'scenarios'))) {
    const now = new Date(scenario.now);
    // No memo: it would freeze the facts, which only fhirpath.js minds (it marks what it returns).
    const engine = createEngine(knowledge, { config, logger: createLogger('silent'), now: () => now, memoChars: 0 });
    for (const c of scenario.cases) {
      const service = knowledge.services.all().find((s) => s.hooks.includes(c.hook))!;
      const evaluation = await engine.evaluate(service, parseHookRequest(hookRequest(c, now), service.hooks, service.id));
      out.push({ label: `${file}: ${c.name}`, facts: evaluation.facts });
    }
  }
  return out;
}

describe('shipped rules', () => {
  test('there are rule files, each with expressions', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    for (const { file } of ruleFiles) expect(expressionsOf(file).length).toBeGreaterThan(0);
  });

  test('the expressions of the rule tests are inside the compiled subset (they exercise it)', () => {
    for (const expression of TEST_EXPRESSIONS) expect(isCompiled(compileExpression(expression, new Set(['washoutDays']))), expression).toBe(true);
  });

  test('every expression gives fhirpath.js results on every scenario, with the variables the engine passes (a compiled one never falling back)', async () => {
    const scenarios = await scenarioFacts();
    expect(scenarios.length).toBeGreaterThanOrEqual(50);
    let evaluations = 0;
    let nonEmpty = 0;
    for (const { label, facts } of scenarios) {
      for (const { name, file } of ruleFiles) {
        // Like evaluateBindings() in src/rules/compile.ts: each binding sees the parameters and the bindings above it.
        const variables = factVariables(facts, file.parameters);
        for (const { field, expression, binding } of expressionsOf(file)) {
          const where = `${label} (${name} ${field})`;
          const p = shippedPair(file, expression);
          let value: unknown[];
          if (p) {
            expect(check(p, facts, variables, where), `${where}: ${expression}`).toBe('value');
            value = p.reference(facts, variables);
            expect(isTrue(p.compiled(facts, variables))).toBe(isTrue(value));
          } else {
            // Outside the subset: what the engine runs is fhirpath.js itself, with its answer.
            const engineRuns = compileExpression(expression, allowedOf(file), VALUE_SETS);
            value = compileWithFhirpathJs(expression, VALUE_SETS)(facts, variables);
            expect(engineRuns(facts, variables), `${where}: ${expression}`).toEqual(value);
          }
          if (binding) variables[binding] = value;
          evaluations++;
          if (value.length > 0) nonEmpty++;
        }
      }
      for (const expression of TEST_EXPRESSIONS) {
        expect(check(pair(expression), facts, factVariables(facts, { washoutDays: 14 }), label)).toBe('value');
      }
    }
    expect(evaluations).toBeGreaterThan(1000);
    expect(nonEmpty).toBeGreaterThan(200);
    // fhirpath.js on every expression × every scenario (about 100): slow on a loaded machine, never a speed check.
  }, 120_000);
});

// ---- random facts ------------------------------------------------------------------------------------------------


const SEED = 20_261_121;
const FACT_SETS = 300;

interface RandomCase {
  label: string;
  facts: PatientFacts;
  variables: Variables;
  /** Data unlike facts (NaN, null in a list, a `_field`, frozen objects): the closures may fall back. */
  exotic: boolean;
}

function randomCase(index: number, random: () => number): RandomCase {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const maybe = <T>(value: T, p = 0.7): T | undefined => (random() < p ? value : undefined);
  const exotic = index % 10 === 9;
  const DOSES = [0, 0.5, 1.5, 3, 3.000000001, 4.5, 4.499999999, 6, 0.1 + 0.2, 50, 12.25, ...(exotic ? [NaN, -0] : [])];
  const NAMES = ['oxycodone', 'LDN 4.5 mg', 'tramadol 50 mg', 'interferon beta-1a', 'm', 'Zeta', ''];
  const medication = (i: number): Record<string, unknown> => {
    const name = maybe(pick(NAMES), 0.9);
    const fact: Record<string, unknown> = {
      ref: `${pick(['MedicationRequest', 'MedicationStatement'])}/${index}-${i}`,
      resourceType: pick(['MedicationRequest', 'MedicationStatement']),
      name,
      label: maybe(pick(NAMES), 0.9),
      codes: Array.from({ length: pick([0, 0, 1, 1, 2]) }, () => ({ system: 'http://x', code: pick(['7243', '1', '2']) })),
      ingredients: random() < 0.3 ? [{ name: 'naltrexone', codes: [], strengthMg: pick(DOSES) }] : [],
      isNaltrexone: maybe(random() < 0.5),
      naltrexoneRole: maybe(pick(['ldn', 'full-dose', 'unknown-dose']), 0.5),
      isOpioid: maybe(random() < 0.5, 0.9),
      isInterferonBeta: maybe(random() < 0.3),
      current: maybe(random() < 0.6, 0.9),
      past: maybe(random() < 0.4, 0.8),
      dailyDoseMg: maybe(pick(DOSES), 0.6),
      daysSinceLastUse: maybe(pick([0, 1, 5, 14, 15, 30]), 0.5),
      atBedtime: maybe(random() < 0.5, 0.6),
      effectiveStart: maybe(pick(['2026-01-01', '2026-11-21', '2026-12-31']), 0.5),
      doseText: maybe(pick(['4.5 mg at bedtime', 'twice daily'])),
    };
    if (exotic && random() < 0.2) fact.codes = [null];
    if (exotic && random() < 0.1) fact._label = { extension: [] };
    for (const key of Object.keys(fact)) if (fact[key] === undefined) delete fact[key];
    return fact;
  };
  const condition = (i: number): Record<string, unknown> => ({
    ref: `Condition/${index}-${i}`,
    name: pick(['multiple sclerosis', 'spasticity']),
    codes: [],
    isMultipleSclerosis: random() < 0.5,
    isSpasticity: random() < 0.5,
    active: random() < 0.7,
  });
  const medications = Array.from({ length: pick([0, 1, 2, 3, 5, 8]) }, (_, i) => medication(i));
  const orders = Array.from({ length: pick([0, 1, 1, 2]) }, (_, i) => medication(100 + i));
  const facts = {
    hook: pick(['order-select', 'order-sign', 'patient-view']),
    now: '2026-11-21',
    focus: orders.slice(0, pick([0, 1, 2])),
    orders,
    medications,
    conditions: Array.from({ length: pick([0, 1, 2]) }, (_, i) => condition(i)),
  } as unknown as PatientFacts;
  if (exotic && random() < 0.5) deepFreeze(facts);
  const numbers = [0, 1, 2, 2.5, 3, 4.5, 14, 0.1 + 0.2, 0.3, 3.000000001, ...(exotic ? [NaN] : [])];
  const variables: Variables = {
    ...factVariables(facts, { lowDoseMaxMg: 4.5, startDoseMg: 1.5, washoutDays: 14, maxDailyDoseMg: 3 }),
    nums: Array.from({ length: pick([0, 1, 1, 2, 3]) }, () => pick(numbers)),
    nums2: Array.from({ length: pick([0, 1, 2]) }, () => pick(numbers)),
    flag: maybe(random() < 0.5),
    flag2: maybe(random() < 0.5),
    many: [true, random() < 0.5],
    str: pick(['a', 'b', '']),
    none: [],
    daysSinceLastOpioid: Array.from({ length: pick([0, 1, 1, 1]) }, () => pick([0, 1, 2, 14])),
  };
  return { label: `random fact set #${index}${exotic ? ' (exotic)' : ''}`, facts, variables, exotic };
}

/**
 * Expressions over the random facts. `fallBack`: may be handed to fhirpath.js on ordinary data too; `throws`: an
 * error in fhirpath.js whatever the facts.
 */
const TABLE: { expression: string; fallBack?: true; throws?: true }[] = [
  // = and !=: empty operands, single and multiple items, mixed types
  { expression: '%medications.where(dailyDoseMg = 4.5)' },
  { expression: '%medications.where(dailyDoseMg != 3)' },
  { expression: "%medications.where(naltrexoneRole = 'ldn')" },
  { expression: "%medications.where(naltrexoneRole != 'ldn')" },
  { expression: '%medications.where(name = label)' },
  { expression: '%medications.where(atBedtime = false)' },
  { expression: '%medications.where(atBedtime != true)' },
  { expression: "%medications.where(dailyDoseMg = '4.5')" },
  { expression: '%medications.where(current = 1)' },
  { expression: '%medications.where(dailyDoseMg = 0.3)' },
  { expression: '%medications.where(dailyDoseMg = 3)' },
  { expression: '%nums = %nums2' },
  { expression: '%nums != %nums2' },
  { expression: '%nums.first() = 0' },
  { expression: '%medications.dailyDoseMg = %nums' },
  { expression: '%medications.codes.code = %focus.codes.code' },
  { expression: '{} = 1' },
  { expression: '%flag = true' },
  { expression: '%flag != %flag2' },
  { expression: '%medications.dailyDoseMg.first() = %lowDoseMaxMg' },
  { expression: '%nums = %nums' },
  { expression: '%medications.first() = %orders.first()', fallBack: true },
  { expression: '%medications.first() != %medications.last()', fallBack: true },
  // < <= > >=: decimals, plain numbers from variables, strings, booleans, errors
  { expression: '%medications.where(dailyDoseMg > %lowDoseMaxMg)' },
  { expression: '%medications.where(dailyDoseMg <= 3)' },
  { expression: '%medications.where(dailyDoseMg >= %startDoseMg)' },
  { expression: '%medications.where(dailyDoseMg < 0.3)' },
  { expression: '%medications.where(daysSinceLastUse < 15)' },
  { expression: '%medications.where(effectiveStart < %now)' },
  { expression: "%medications.where(name > 'm')" },
  { expression: '%medications.where(atBedtime > false)' },
  { expression: '%nums.first() < %lowDoseMaxMg' },
  { expression: '%nums.first() >= %nums2.first()' },
  { expression: '%nums.count() > 2' },
  { expression: '%medications.count() >= %nums.count()' },
  { expression: '%medications.dailyDoseMg > 1' },
  { expression: '%medications.where(dailyDoseMg > name)' },
  { expression: "%medications.where(codes.code > '1')" },
  { expression: '%medications.where(daysSinceLastUse <= %washoutDays)' },
  { expression: '%nums.first() > 3' },
  // min() and max()
  { expression: '%nums.min()' },
  { expression: '%nums.max()' },
  { expression: '%medications.dailyDoseMg.min()' },
  { expression: '%medications.daysSinceLastUse.max()' },
  { expression: '%medications.name.min()' },
  { expression: '%medications.isOpioid.max()' },
  { expression: '%nums.combine(%medications.dailyDoseMg).max()', fallBack: true },
  { expression: '%medications.label.combine(%nums).min()' },
  { expression: '%medications.first().min()' },
  { expression: '%medications.where(past).daysSinceLastUse.min()' },
  // and, or, xor, implies, not(): three-valued, non-boolean operands, more than one item
  { expression: '%medications.where(isOpioid and current)' },
  { expression: '%medications.where(isOpioid or past)' },
  { expression: '%medications.where(isOpioid xor current)' },
  { expression: '%medications.where(isOpioid implies current)' },
  { expression: '%medications.where(current.not())' },
  { expression: '%medications.where(atBedtime.not())' },
  { expression: '%medications.where((dailyDoseMg > 3) and atBedtime)' },
  { expression: '%medications.where(naltrexoneRole and current)' },
  { expression: '%medications.where(codes.code and current)' },
  { expression: '%medications.where(codes.code or past)' },
  { expression: '%flag and %flag2' },
  { expression: '%flag or %flag2' },
  { expression: '%flag xor %flag2' },
  { expression: '%flag implies %flag2' },
  { expression: '%flag or {}' },
  { expression: '{} and false' },
  { expression: '{} implies true' },
  { expression: 'false implies {}' },
  { expression: '%many and true', throws: true },
  { expression: '%many.not()', throws: true },
  { expression: '%str.not()' },
  { expression: '%nums.exists() and %medications.empty()' },
  { expression: '(%flag implies %flag2).not()' },
  { expression: "%medications.where(naltrexoneRole = 'ldn' and (dailyDoseMg <= %maxDailyDoseMg or dailyDoseMg.empty()))" },
  // existence, where(), combine(), first(), last(), count(), $this
  { expression: '%medications.exists()' },
  { expression: '%none.exists()' },
  { expression: '%medications.exists(isOpioid and past)' },
  { expression: '%medications.exists(codes.code)' },
  { expression: '%medications.where(dailyDoseMg.empty())' },
  { expression: '%medications.where(codes.exists())' },
  { expression: "%medications.where(codes.exists(code = '7243'))" },
  { expression: '%medications.where(past)' },
  { expression: '%medications.where(label)' },
  { expression: '%medications.where(codes)' },
  { expression: '%medications.count()' },
  { expression: '%medications.codes.count()' },
  { expression: '%medications.codes.code' },
  { expression: '%medications.ingredients.strengthMg' },
  { expression: '%medications.first()' },
  { expression: '%medications.last().label' },
  { expression: '%medications.where(past).first().dailyDoseMg' },
  { expression: '%medications.combine(%orders).where(current).ref' },
  { expression: '%orders.combine(%medications).label' },
  { expression: '%medications.combine(hook)' },
  { expression: '%medications.where(codes.combine(ingredients.codes).exists())' },
  { expression: '%medications.where($this.current)' },
  { expression: '%nums.where($this > 1)' },
  { expression: '%medications.dailyDoseMg.where($this >= %lowDoseMaxMg)' },
  { expression: '%medications.where(%flag)' },
  { expression: '%medications.where(%nums)' },
  { expression: '%conditions.where(isMultipleSclerosis and active)' },
  { expression: '%conditions.name' },
  { expression: '%focus.where(isNaltrexone and naltrexoneRole.exists())' },
  // iif(), toString(), +, literals, root members
  { expression: "iif(%daysSinceLastOpioid = 0, 'today', iif(%daysSinceLastOpioid = 1, 'yesterday', %daysSinceLastOpioid.toString() + ' days ago'))" },
  { expression: '%medications.where(current).dailyDoseMg.min().toString()' },
  { expression: 'iif(%flag, %medications.first(), %orders)' },
  { expression: '%medications.iif(current, label, name)' },
  { expression: 'iif(%many, 1, 2)' },
  { expression: 'iif({}, 1)' },
  { expression: '%medications.where(iif(current, dailyDoseMg > 3, past))' },
  { expression: '%medications.dailyDoseMg.first().toString()' },
  { expression: '%nums.toString()' },
  { expression: '%flag.toString()' },
  { expression: "%medications.name.first() + ' x'" },
  { expression: '%str + %str' },
  { expression: "%medications.label + 'x'" },
  { expression: '%medications.dailyDoseMg.first() + 1', fallBack: true },
  { expression: "'it\\'s' + ' ok'" },
  { expression: '%`medications`.label' },
  { expression: "%'now'" },
  { expression: 'medications.where(current).label' },
  { expression: "hook = 'order-select'" },
  { expression: 'now' },
  { expression: 'true' },
  { expression: '4.5 > 3' },
];

describe('random facts', () => {
  const random = prng(SEED);
  const cases = Array.from({ length: FACT_SETS }, (_, i) => randomCase(i, random));

  test.each(TABLE.map((row) => [row.expression, row] as const))('%s', (_expression, row) => {
    const p = pair(row.expression);
    const counts = { value: 0, error: 0, 'fell-back': 0 };
    for (const c of cases) {
      const throwsInFhirpathJs = hasError(p, c.facts, c.variables);
      const kind = check(p, c.facts, c.variables, c.label);
      counts[kind]++;
      if (kind === 'fell-back' && !throwsInFhirpathJs && !c.exotic && !row.fallBack) {
        throw new Error(`${row.expression} on ${c.label}: handed to fhirpath.js, which does not throw (${JSON.stringify(c.variables)})`);
      }
    }
    if (row.throws) {
      expect(cases.every((c) => hasError(p, c.facts, c.variables))).toBe(true);
    } else {
      // The closure itself answered often enough for the comparison to mean something.
      expect(counts.value, JSON.stringify(counts)).toBeGreaterThan(row.fallBack ? 0 : FACT_SETS / 4);
    }
  });

  test('the table reaches empty, single and multiple-item operands, both booleans and fhirpath.js errors', () => {
    const outcomes = TABLE.flatMap(({ expression }) => {
      const reference = compileWithFhirpathJs(expression);
      return cases.map((c) => run(reference, c.facts, c.variables));
    });
    const values = outcomes.flatMap((o) => (o.kind === 'value' ? [o.value] : []));
    expect(values.some((v) => v.length === 0)).toBe(true);
    expect(values.some((v) => v.length === 1 && v[0] === true)).toBe(true);
    expect(values.some((v) => v.length === 1 && v[0] === false)).toBe(true);
    expect(values.some((v) => v.length > 1)).toBe(true);
    expect(outcomes.filter((o) => o.kind === 'error').length).toBeGreaterThan(50);
  });
});

// ---- what is not compiled ----------------------------------------------------------------------------------------

describe('constructs outside the subset', () => {
  const random = prng(SEED + 1);
  const cases = Array.from({ length: 40 }, (_, i) => randomCase(i, random)).filter((c) => !c.exotic);

  test.each([
    '%medications.select(label)',
    "%medications.label.join(', ')",
    '%medications.dailyDoseMg.sum()',
    '%medications.where(dailyDoseMg > -1)',
    '%medications.where(dailyDoseMg = 4.50)',
    '%medications.where($index = 0)',
    '%medications.where(effectiveStart < @2026-06-01)',
    '%medications | %orders',
    "%medications.where(name.lower().contains('ldn'))",
    "%medications.where(label.matches('^LDN [0-9.]+ mg'))",
    "%medications.where(name.startsWith('tram')).exists()",
    "%medications.where(name.upper() = 'ZETA')",
    'today()',
  ])('%s falls back to fhirpath.js and gives its answer', (expression) => {
    const allowed = new Set(['nums', 'nums2', 'flag', 'flag2', 'many', 'str', 'none', 'daysSinceLastOpioid', 'lowDoseMaxMg', 'startDoseMg', 'washoutDays', 'maxDailyDoseMg']);
    const compiled = compileExpression(expression, allowed);
    expect(isCompiled(compiled)).toBe(false);
    expect(compileFast(fhirpath.parse(expression) as FhirPathNode, compileWithFhirpathJs(expression))).toBeUndefined();
    const reference = compileWithFhirpathJs(expression);
    for (const c of cases) {
      const got = run(compiled, c.facts, c.variables);
      const want = run(reference, c.facts, c.variables);
      expect(got.kind).toBe(want.kind);
      if (got.kind === 'value' && want.kind === 'value') {
        expect(got.value).toEqual(want.value);
        expect(sameItems(got.value, want.value)).toBe(true);
      }
    }
  });

  test('a compiled expression hands an input it does not handle to fhirpath.js, error included', () => {
    const facts = { hook: 'order-select', now: '2026-11-21', focus: [], orders: [], medications: [], conditions: [] } as unknown as PatientFacts;
    const compiled = compileExpression('%medications.dailyDoseMg > 1', new Set());
    expect(isCompiled(compiled)).toBe(true);
    const medications = [{ dailyDoseMg: 2 }, { dailyDoseMg: 3 }];
    // Two items on one side of `>`: fhirpath.js's own error.
    expect(() => compiled(facts, { ...factVariables(facts), medications })).toThrow(/Singleton was expected/);
    expect(compiled(facts, { ...factVariables(facts), medications: [{ dailyDoseMg: 2 }] })).toEqual([true]);
    // A null in a list: fhirpath.js counts it.
    const count = compileExpression('%medications.count()', new Set());
    expect(count(facts, { ...factVariables(facts), medications: [null, { dailyDoseMg: 2 }] })).toEqual([2]);
  });
});
