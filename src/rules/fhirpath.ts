/**
 * FHIRPath for rule files: parse and check once at load, evaluate many times over PatientFacts.
 * Facts are plain JSON, so no FHIR model is used.
 *
 * Two guards that fhirpath.js does not give on its own:
 * - Static checks: every `%variable` must be known and every member name must be a PatientFacts field,
 *   so a typo fails at start-up instead of silently matching nothing.
 * - `where()` and `exists(criterion)` are replaced: without a model, fhirpath.js treats a bare boolean
 *   field such as `where(past)` as true even when the field is false.
 *
 * Evaluation: an expression inside the subset that fhirpath-compiled.ts compiles (every shipped rule's) runs as
 * plain JavaScript closures, with the same results as fhirpath.js but some twenty times faster over a long
 * medication list; anything else, and the odd input the closures do not handle, is evaluated by fhirpath.js.
 */
import fhirpath, { type UserInvocationTable } from 'fhirpath';
import { FACT_FIELD_NAMES } from './fact-shape.js';
import { compileFast } from './fhirpath-compiled.js';
import { memberOfFunctions, memberOfProblems, type ValueSetLookup } from './member-of.js';
import { isTrue as holds, type Expression } from './expression.js';

/** Variables every expression can use: `%focus`, `%orders`, `%medications`, `%conditions`, `%now`, `%hook`. */
export const FACT_VARIABLES = ['focus', 'orders', 'medications', 'conditions', 'now', 'hook'] as const;

export type { Expression, Variables } from './expression.js';

/** An expression that does not parse or does not pass the static checks. */
export class ExpressionError extends Error {
  override name = 'ExpressionError';
}

/** Whether a condition's result holds (expression.ts), on fhirpath.js's typed values. */
export function isTrue(result: unknown[]): boolean {
  return holds(result, (item) => fhirpath.util.valData(item));
}

type Criterion = (item: unknown) => unknown[];

const BOOLEAN_SAFE_FUNCTIONS: UserInvocationTable = {
  where: {
    fn(this: { $index?: number }, items: unknown[], criterion: Criterion) {
      return items.filter((item, i) => {
        this.$index = i;
        return isTrue(criterion(item));
      });
    },
    arity: { 1: ['Expr'] },
    internalStructures: true,
  },
  exists: {
    fn(this: { $index?: number }, items: unknown[], criterion?: Criterion) {
      if (!criterion) return [items.length > 0];
      return [
        items.some((item, i) => {
          this.$index = i;
          return isTrue(criterion(item));
        }),
      ];
    },
    arity: { 0: [], 1: ['Expr'] },
    internalStructures: true,
  },
};

interface AstNode {
  type: string;
  text?: string;
  children?: AstNode[];
}

/** `%name`, `%'name'` and `` %`name` `` all name the variable "name". */
const unquote = (text: string): string => text.replace(/^[`'"]|[`'"]$/g, '');

function collectNames(node: AstNode, variables: Set<string>, members: Set<string>): void {
  if (node.type === 'ExternalConstantTerm' && node.text) variables.add(unquote(node.text));
  if (node.type === 'MemberInvocation' && node.text) members.add(unquote(node.text));
  for (const child of node.children ?? []) collectNames(child, variables, members);
}

/**
 * Parse, check and compile `expression`. `allowedVariables` are the names usable as `%name`
 * besides the fact variables; `valueSets` are what memberOf('<url>') looks in (src/rules/member-of.ts).
 * Throws ExpressionError with a message fit for a rule author.
 */
export function compileExpression(expression: string, allowedVariables: ReadonlySet<string>, valueSets?: ValueSetLookup): Expression {
  let ast: AstNode;
  try {
    ast = fhirpath.parse(expression) as AstNode;
  } catch (e) {
    throw new ExpressionError(`FHIRPath syntax error: ${(e as Error).message}`);
  }
  const variables = new Set<string>();
  const members = new Set<string>();
  collectNames(ast, variables, members);
  const known = new Set<string>([...FACT_VARIABLES, ...allowedVariables]);
  const unknownVariables = [...variables].filter((v) => !known.has(v));
  if (unknownVariables.length > 0) {
    throw new ExpressionError(
      `unknown variable ${unknownVariables.map((v) => `%${v}`).join(', ')} (known here: ${[...known].map((v) => `%${v}`).join(', ')})`,
    );
  }
  const unknownMembers = [...members].filter((m) => !FACT_FIELD_NAMES.has(m));
  if (unknownMembers.length > 0) {
    throw new ExpressionError(`unknown field ${unknownMembers.join(', ')}: not a field of the clinical facts (src/model/facts.ts)`);
  }
  const memberOf = memberOfProblems(ast, expression, valueSets);
  if (memberOf.length > 0) throw new ExpressionError(memberOf.join('; '));
  const reference = compileWithFhirpathJs(expression, valueSets);
  return compileFast(ast, reference) ?? reference;
}

/**
 * The fhirpath.js evaluation of `expression` (with the boolean-safe where()/exists()), without the static checks
 * or the compiled closures: what compiled expressions fall back to, and what tests compare them with.
 */
export function compileWithFhirpathJs(expression: string, valueSets?: ValueSetLookup): Expression {
  const userInvocationTable = valueSets ? { ...BOOLEAN_SAFE_FUNCTIONS, ...memberOfFunctions(valueSets) } : BOOLEAN_SAFE_FUNCTIONS;
  const evaluate = fhirpath.compile(expression, undefined, { userInvocationTable });
  return (facts, vars) => evaluate(facts, vars) as unknown[];
}
