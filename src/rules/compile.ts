/**
 * Turning a validated rule file into a Rule: FHIRPath compiled once, templates parsed once,
 * evidence and override reasons resolved once. Every problem is reported with the file and field
 * (e.g. `rules/ldn-with-opioid.yaml: card.summary: unknown binding "opioid" in {{opioid.name}}`).
 *
 * Evaluation order: bindings (in file order) → `when` all non-empty → `unless` all empty →
 * findings that hold (a card with findings needs one) → card text, suggestions, subjects.
 */
import { ProblemList } from '../model/problems.js';
import type { PatientFacts } from '../model/facts.js';
import type { HookName } from '../model/hooks.js';
import type { Action, CardDraft, Coding, SuggestionDraft } from '../model/cards.js';
import type { EvidenceCatalogue } from '../knowledge/evidence.js';
import { evidenceReviewProblem } from '../knowledge/evidence-review.js';
import type { OverrideReasonCatalogue } from '../knowledge/override-reasons.js';
import { deleteDraftActions, setDailyDoseActions } from './actions.js';
import type { Rule, RuleContext, RuleMeta } from './contract.js';
import { FACT_FIELD_NAMES, SAMPLE_FACTS } from './fact-shape.js';
import { compileExpression, ExpressionError, FACT_VARIABLES, isTrue, type Expression, type Variables } from './fhirpath.js';
import type { ValueSetLookup } from './member-of.js';
import { parseRationale } from './rationale.js';
import type { RuleFile, RuleFileAction } from './rule-file.js';
import {
  escapeMarkdown,
  formatValue,
  literalLength,
  parseTemplate,
  placeholdersOf,
  renderSummary,
  renderCardText,
  TemplateError,
  type Placeholder,
  type PlaceholderValue,
  type TemplatePart,
  unwrapSoftBreaks,
} from './card-text.js';
import { SUMMARY_MAX_LENGTH } from '../model/cards.js';

/** The catalogues rule files refer to. */
export interface RuleDependencies {
  evidence: EvidenceCatalogue;
  overrideReasons: OverrideReasonCatalogue;
  /** The pack's value sets, for FHIRPath memberOf('<url>') (src/rules/member-of.ts); without them memberOf() is an error. */
  valueSets?: ValueSetLookup;
}

/** Placeholder name for the list of findings that hold. */
const FINDINGS = 'findings';
const RESERVED_NAMES = new Set<string>([...FACT_VARIABLES, FINDINGS]);

interface Binding {
  name: string;
  evaluate: Expression;
}

interface Finding {
  holds: Expression;
  label: TemplatePart[];
  text: TemplatePart[];
}

type ActionBuilder = (variables: Variables, context: RuleContext) => Action[];

interface SuggestionPlan {
  label: TemplatePart[];
  recommended?: boolean;
  actions: ActionBuilder[];
}

/** Names a template may use, and whether `{{findings}}` is allowed. */
interface TemplateScope {
  bindings: ReadonlySet<string>;
  parameters: ReadonlySet<string>;
  findings: boolean;
}

/**
 * Compile one rule file. `label` names the file in errors (and in `meta.file`); `text` is the file's text, whose
 * When/Then header comment becomes `meta.rationale`. Throws a KnowledgeError listing every problem.
 */
export function compileRule(file: RuleFile, label: string, deps: RuleDependencies, text = ''): Rule {
  const problems = new ProblemList();
  const problem = (field: string, message: string): void => problems.add(label, field, message);

  const parameterNames = new Set(Object.keys(file.parameters));
  for (const name of parameterNames) {
    if (RESERVED_NAMES.has(name)) problem(`parameters.${name}`, `"${name}" is reserved; choose another name`);
  }

  const bindings = compileBindings(file, parameterNames, problem, deps.valueSets);
  const bindingNames = new Set(Object.keys(file.bind));
  checkBindingNames('when', file.when, bindingNames, problem);
  checkBindingNames('unless', file.unless, bindingNames, problem);

  const variablesInScope = new Set([...parameterNames, ...bindingNames]);
  const plainScope: TemplateScope = { bindings: bindingNames, parameters: parameterNames, findings: false };
  const cardScope: TemplateScope = { ...plainScope, findings: file.card.findings !== undefined };
  const template = (field: string, text: string, scope: TemplateScope): TemplatePart[] => {
    try {
      const parts = parseTemplate(text);
      checkPlaceholders(field, parts, scope, problem);
      return parts;
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      problem(field, e.message);
      return [];
    }
  };

  const findings: Finding[] | undefined = file.card.findings?.map((finding, i) => ({
    holds: compileAt(`card.findings[${i}].if`, finding.if, variablesInScope, problem, deps.valueSets),
    label: template(`card.findings[${i}].label`, finding.label, plainScope),
    text: template(`card.findings[${i}].text`, finding.text, plainScope),
  }));

  const summary = template('card.summary', file.card.summary, cardScope);
  if (literalLength(summary) > SUMMARY_MAX_LENGTH) {
    problem('card.summary', `the fixed text alone is ${literalLength(summary)} characters; a summary must be under 140`);
  }
  const detail = template('card.detail', unwrapSoftBreaks(file.card.detail), cardScope);
  if (findings && !placeholdersOf(detail).some((p) => p.name === FINDINGS)) {
    problem('card.detail', 'must contain {{findings}} where the findings that hold are listed');
  }

  const evidenceSection = renderEvidenceSection(file, deps.evidence, problem);
  const review = evidenceReviewProblem({ indicator: file.card.indicator, evidenceIds: file.card.evidence.map(citationId), evidenceReviewed: file.evidenceReviewed }, deps.evidence);
  if (review) problem('evidenceReviewed', review);
  const overrideReasons = resolveOverrideReasons(file, deps.overrideReasons, problem);
  const suggestions: SuggestionPlan[] = file.card.suggestions.map((suggestion, i) => ({
    label: template(`card.suggestions[${i}].label`, suggestion.label, plainScope),
    recommended: suggestion.recommended,
    actions: suggestion.actions.map((action, j) =>
      compileAction(`card.suggestions[${i}].actions[${j}]`, action, file.parameters, bindingNames, problem),
    ),
  }));

  if (problems.items.length === 0) probeOnSampleFacts(file, bindings, findings, problem);
  problems.throwIfAny();

  const hooks: readonly HookName[] = file.hooks;
  return {
    id: file.id,
    version: file.version,
    concern: file.concern,
    hooks,
    meta: ruleMeta(file, label, text, overrideReasons),
    evaluate(facts: PatientFacts, context: RuleContext): CardDraft | null {
      if (!hooks.includes(facts.hook)) return null;
      const variables = evaluateBindings(facts, file.parameters, bindings);
      if (!file.when.every((name) => listOf(variables[name]).length > 0)) return null;
      if (file.unless.some((name) => listOf(variables[name]).length > 0)) return null;
      const holding = findings?.filter((finding) => isTrue(finding.holds(facts, variables)));
      if (holding && holding.length === 0) return null;

      // Chart data (medication names, sigs) goes into Markdown escaped, so it cannot add links or markup.
      const valueOf = (p: Placeholder): string[] => placeholderValues(p, variables);
      const inMarkdown = (p: Placeholder): string[] => valueOf(p).map(escapeMarkdown);
      const renderedFindings = holding?.map((f) => ({ label: renderCardText(f.label, valueOf), text: renderCardText(f.text, inMarkdown) }));
      const inSummary = (p: Placeholder): PlaceholderValue =>
        p.name === FINDINGS ? (renderedFindings ?? []).map((f) => f.label) : valueOf(p);
      const inDetail = (p: Placeholder): PlaceholderValue =>
        p.name === FINDINGS ? { verbatim: (renderedFindings ?? []).map((f) => `- ${f.text}`).join('\n') } : inMarkdown(p);

      return {
        ruleId: file.id,
        ruleVersion: file.version,
        concern: file.concern,
        indicator: file.card.indicator,
        summary: renderSummary(summary, inSummary),
        detail: `${renderCardText(detail, inDetail).trimEnd()}\n\n${evidenceSection}`,
        evidence: file.card.evidence.map(citationId),
        suggestions: buildSuggestions(suggestions, variables, context, valueOf),
        overrideReasons: overrideReasons.map((reason) => ({ ...reason })),
        subjects: subjectsOf(file.when, variables),
      };
    },
  };
}

function compileAt(field: string, expression: string, variables: ReadonlySet<string>, problem: (f: string, m: string) => void, valueSets?: ValueSetLookup): Expression {
  try {
    return compileExpression(expression, variables, valueSets);
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    problem(field, e.message);
    return () => [];
  }
}

/** Bindings in file order; each may use the parameters and the bindings above it. */
function compileBindings(file: RuleFile, parameterNames: ReadonlySet<string>, problem: (f: string, m: string) => void, valueSets?: ValueSetLookup): Binding[] {
  const visible = new Set(parameterNames);
  return Object.entries(file.bind).map(([name, expression]) => {
    if (RESERVED_NAMES.has(name)) problem(`bind.${name}`, `"${name}" is reserved; choose another name`);
    if (parameterNames.has(name)) problem(`bind.${name}`, `"${name}" is already a parameter`);
    const evaluate = compileAt(`bind.${name}`, expression, visible, problem, valueSets);
    visible.add(name);
    return { name, evaluate };
  });
}

function checkBindingNames(field: string, names: readonly string[], bindings: ReadonlySet<string>, problem: (f: string, m: string) => void): void {
  names.forEach((name, i) => {
    if (!bindings.has(name)) problem(`${field}[${i}]`, `"${name}" is not a binding (bindings: ${[...bindings].join(', ')})`);
  });
}

function checkPlaceholders(field: string, parts: TemplatePart[], scope: TemplateScope, problem: (f: string, m: string) => void): void {
  for (const { name, field: member } of placeholdersOf(parts)) {
    const shown = `{{${member ? `${name}.${member}` : name}}}`;
    if (name === FINDINGS) {
      if (!scope.findings || member) problem(field, `${shown} is only allowed as {{findings}} in a card with findings`);
    } else if (scope.parameters.has(name)) {
      if (member) problem(field, `${shown}: "${name}" is a parameter and has no fields`);
    } else if (!scope.bindings.has(name)) {
      problem(field, `unknown binding "${name}" in ${shown} (bindings: ${[...scope.bindings].join(', ')}; parameters: ${[...scope.parameters].join(', ') || 'none'})`);
    } else if (member && !FACT_FIELD_NAMES.has(member)) {
      problem(field, `unknown field "${member}" in ${shown}: not a field of the clinical facts`);
    }
  }
}

/** What the evidence pages show about a rule: its words, not its logic. */
function ruleMeta(file: RuleFile, label: string, text: string, overrideReasons: Coding[]): RuleMeta {
  const rationale = parseRationale(text);
  const aboutNaltrexone = /naltrexone/i.test(Object.values(file.bind).join('\n')) || /\bldn\b/i.test(`${file.id} ${file.concern}`);
  return {
    title: file.title ?? file.id,
    ...(rationale ? { rationale } : {}),
    indicator: file.card.indicator,
    evidence: file.card.evidence.map((c) => (typeof c === 'string' ? { id: c } : { id: c.id, says: c.says })),
    parameters: { ...file.parameters },
    overrideReasons: overrideReasons.map((r) => ({ ...r })),
    file: label,
    concernsLdn: aboutNaltrexone,
    ...(file.evidenceReviewed ? { evidenceReviewed: file.evidenceReviewed } : {}),
  };
}

const citationId = (citation: RuleFile['card']['evidence'][number]): string => (typeof citation === 'string' ? citation : citation.id);

/** The detail's closing **Evidence** section: one line per citation with its strength in plain words. */
function renderEvidenceSection(file: RuleFile, catalogue: EvidenceCatalogue, problem: (f: string, m: string) => void): string {
  const lines = file.card.evidence.flatMap((citation, i) => {
    const id = citationId(citation);
    const entry = catalogue.get(id);
    if (!entry) {
      problem(`card.evidence[${i}]`, `unknown evidence id "${id}" (not in evidence.yaml)`);
      return [];
    }
    const says = typeof citation === 'string' ? entry.finding : citation.says;
    return [`- ${entry.label} (${entry.strengthOfEvidence}): ${says}`];
  });
  return `**Evidence**\n${lines.join('\n')}`;
}

function resolveOverrideReasons(file: RuleFile, catalogue: OverrideReasonCatalogue, problem: (f: string, m: string) => void): Coding[] {
  const known = file.card.overrideReasons.filter((code, i) => {
    if (catalogue.get(code)) return true;
    problem(`card.overrideReasons[${i}]`, `unknown override reason "${code}" (not in override-reasons.yaml)`);
    return false;
  });
  if (file.card.indicator !== 'info' && file.card.overrideReasons.length === 0) {
    problem('card.overrideReasons', `a ${file.card.indicator} card needs coded override reasons`);
  }
  return catalogue.codings(known);
}

function compileAction(
  field: string,
  action: RuleFileAction,
  parameters: RuleFile['parameters'],
  bindings: ReadonlySet<string>,
  problem: (f: string, m: string) => void,
): ActionBuilder {
  const needBinding = (at: string, name: string): void => {
    if (!bindings.has(name)) problem(at, `"${name}" is not a binding (bindings: ${[...bindings].join(', ')})`);
  };
  if (action.delete !== undefined) {
    const target = action.delete;
    needBinding(`${field}.delete`, target);
    return (variables) => deleteDraftActions(listOf(variables[target]));
  }
  if (action.setDailyDose !== undefined) {
    const { order, mg } = action.setDailyDose;
    needBinding(`${field}.setDailyDose.order`, order);
    const dose = typeof mg === 'number' ? mg : parameters[mg];
    if (typeof dose !== 'number' || dose <= 0) {
      problem(`${field}.setDailyDose.mg`, `"${String(mg)}" is neither a positive number nor a numeric parameter`);
    }
    return (variables, context) => setDailyDoseActions(listOf(variables[order]), Number(dose), context);
  }
  throw new Error('the rule file schema admits exactly one kind of action');
}

/** Run every binding and finding once on a complete sample patient, so unknown functions and type errors show at load. */
function probeOnSampleFacts(file: RuleFile, bindings: Binding[], findings: Finding[] | undefined, problem: (f: string, m: string) => void): void {
  const variables = factVariables(SAMPLE_FACTS, file.parameters);
  for (const binding of bindings) {
    try {
      variables[binding.name] = binding.evaluate(SAMPLE_FACTS, variables);
    } catch (e) {
      problem(`bind.${binding.name}`, `cannot be evaluated: ${(e as Error).message}`);
      variables[binding.name] = [];
    }
  }
  findings?.forEach((finding, i) => {
    try {
      isTrue(finding.holds(SAMPLE_FACTS, variables));
    } catch (e) {
      problem(`card.findings[${i}].if`, `cannot be evaluated: ${(e as Error).message}`);
    }
  });
}

function factVariables(facts: PatientFacts, parameters: RuleFile['parameters']): Variables {
  return {
    focus: facts.focus,
    orders: facts.orders,
    medications: facts.medications,
    conditions: facts.conditions,
    now: facts.now,
    hook: facts.hook,
    ...parameters,
  };
}

function evaluateBindings(facts: PatientFacts, parameters: RuleFile['parameters'], bindings: Binding[]): Variables {
  const variables = factVariables(facts, parameters);
  for (const binding of bindings) variables[binding.name] = binding.evaluate(facts, variables);
  return variables;
}

/** A variable as a list: bindings already are; a parameter is one value. */
function listOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined ? [] : [value];
}

/** Distinct display values of a placeholder: the binding's items (or their `field`), or the parameter. */
function placeholderValues({ name, field }: Placeholder, variables: Variables): string[] {
  const items = listOf(variables[name]);
  const values = field ? items.flatMap((item) => listOf((item as Record<string, unknown> | null)?.[field])) : items;
  return [...new Set(values.map(formatValue).filter((text) => text !== ''))];
}

function buildSuggestions(
  plans: SuggestionPlan[],
  variables: Variables,
  context: RuleContext,
  valueOf: (p: Placeholder) => string[],
): SuggestionDraft[] {
  return plans.flatMap((plan) => {
    const actions = plan.actions.flatMap((build) => build(variables, context));
    if (actions.length === 0) return [];
    return [{ label: renderCardText(plan.label, valueOf), ...(plan.recommended !== undefined ? { isRecommended: plan.recommended } : {}), actions }];
  });
}

/** References of every item in the `when` bindings, once each. */
function subjectsOf(when: readonly string[], variables: Variables): string[] {
  const refs = when.flatMap((name) =>
    listOf(variables[name]).flatMap((item) => {
      const ref = (item as { ref?: unknown } | null)?.ref;
      return typeof ref === 'string' ? [ref] : [];
    }),
  );
  return [...new Set(refs)];
}
