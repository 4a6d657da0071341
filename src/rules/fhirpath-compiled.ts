/**
 * FHIRPath compiled to plain JavaScript closures, for the part of the language that rule files use.
 * fhirpath.js interprets the parse tree on every call and wraps every value it touches (ResourceNode,
 * FP_Decimal): with 5,000 medications one `%medications.where(...)` took 15–30 ms and a full rule run ~175 ms.
 * The closures built here read the same facts directly, some twenty times faster, with the same answers.
 *
 * The contract is "identical to fhirpath.js with the boolean-safe where()/exists() of fhirpath.ts": same items
 * in the same order, the fact objects themselves, the same empty-propagation and three-valued logic. Two
 * escape hatches keep it that way without re-implementing all of fhirpath.js:
 * - At compile time: a construct outside the subset below makes compileFast() return undefined, and the
 *   caller evaluates that expression with fhirpath.js.
 * - At run time: wherever fhirpath.js would throw, or the data is unlike facts (a null in a list, a `_field`
 *   FHIR extension sibling, an object compared with `=`, numbers whose order depends on which kind of
 *   number fhirpath.js made of them), the closure gives up on this call and returns what `fallback`
 *   (fhirpath.js) returns, error included. For facts this never happens on a well-formed rule.
 *
 * The subset: `%var`, `$this`, member access (lists are flattened), string/boolean/number literals and `{}`,
 * parentheses, `=`, `!=`, `<`, `<=`, `>`, `>=`, `and`, `or`, `xor`, `implies`, `+` on strings, and the
 * functions where(criterion), exists(), exists(criterion), empty(), not(), count(), first(), last(), min(),
 * max(), combine(other), iif(criterion, then[, else]) and toString().
 *
 * Semantics copied from fhirpath.js 5.2 (tests/rules/fhirpath-compiled.test.ts checks them against it):
 * - Operands of operators and the argument of combine() are evaluated against `$this`; the criterion of
 *   where()/exists() against each item; the arguments of iif() against iif()'s input.
 * - `=`/`!=`: empty if either side is empty; lists are equal item by item in order; numbers are equal when
 *   equal after rounding to 1e-8; a number never equals a string or a boolean.
 * - `<` etc.: empty if either side is empty; more than one item, or two different types, is an error. A number
 *   read from the facts or written as a literal is an FP_Decimal in fhirpath.js, and any comparison involving
 *   one rounds both sides to 1e-8; two numbers that come straight from variables (or count()) are compared
 *   as they are. Which kind a number is follows from where it came from, tracked here as its Origin.
 * - `and`/`or`/`xor`/`implies`/`not()`: an operand with one non-boolean item is true, more than one item is an
 *   error, empty is unknown (three-valued logic); both operands are always evaluated.
 * - where()/exists(criterion): an item is kept when its criterion holds in the sense of isTrue() (true, or any
 *   non-boolean item); exists(criterion) stops at the first item that holds, like fhirpath.ts's version.
 * - Number literals are compiled only when written as JavaScript would print them (`4.5`, not `4.50`), since
 *   fhirpath.js keeps a literal's text for toString().
 */
import type { PatientFacts } from '../model/facts.js';
import { isTrue, type Expression, type FhirPathNode, type Variables } from './expression.js';

export type { FhirPathNode } from './expression.js';

type Collection = readonly unknown[];
/** `input` is the collection the node is applied to, `self` is `$this`. */
type Run = (input: Collection, self: Collection, vars: Variables) => Collection;
/**
 * The same node over at most one item, without allocating: `input` and `self` are the single item, or
 * undefined for an empty collection; the answer likewise, or MANY when it is not at most one item (or not
 * known cheaply) and run() must be used. A where() criterion is evaluated this way for each item.
 */
type One = (input: unknown, self: unknown, vars: Variables) => unknown;

/**
 * What kind of numbers a collection may hold, as fhirpath.js would represent them: `decimal` (FP_Decimal: read
 * from the facts, or a literal), `raw` (a JavaScript number: from a variable, or count()), `none` (no numbers
 * at all, e.g. booleans), `mixed` (could be either; a comparison that would depend on it falls back).
 */
type Origin = 'none' | 'decimal' | 'raw' | 'mixed';

interface Compiled {
  run: Run;
  one: One;
  origin: Origin;
}

/** Thrown inside a closure to hand the whole call to fhirpath.js; never escapes this module. */
const FALL_BACK = new Error('FHIRPath construct left to fhirpath.js');
function fallBack(): never {
  throw FALL_BACK;
}

/** One's answer when the result is not a single item or empty: evaluate with run() instead. */
const MANY: object = Object.freeze({});

const EMPTY: Collection = Object.freeze([]);
const TRUE: Collection = Object.freeze([true]);
const FALSE: Collection = Object.freeze([false]);
const booleanOf = (value: boolean): Collection => (value ? TRUE : FALSE);
const maybeBoolean = (value: boolean | undefined): Collection => (value === undefined ? EMPTY : booleanOf(value));
const lift = (value: unknown): Collection => (value === undefined ? EMPTY : [value]);
const collapse = (items: Collection): unknown => (items.length === 0 ? undefined : items.length === 1 ? items[0] : MANY);

const compiledExpressions = new WeakSet<Expression>();

/** Whether `expression` was built by compileFast() (and does not always go through fhirpath.js). */
export function isCompiled(expression: Expression): boolean {
  return compiledExpressions.has(expression);
}

/**
 * Compile a parsed expression (fhirpath.parse()) to a closure, or return undefined when it uses anything
 * outside the subset. `fallback` is the fhirpath.js evaluation of the same expression: the closure returns
 * its answer (or lets it throw) for the rare inputs it does not handle itself.
 */
export function compileFast(ast: FhirPathNode, fallback: Expression): Expression | undefined {
  const body = compile(ast, 'raw', 'raw');
  if (!body) return undefined;
  const run = body.run;
  const expression: Expression = (facts, variables) => {
    try {
      const root = rootCollection(facts);
      return result(run(root, root, variables || {}));
    } catch (e) {
      if (e === FALL_BACK) return fallback(facts, variables);
      throw e;
    }
  };
  compiledExpressions.add(expression);
  return expression;
}

/**
 * The closure's answer: a fresh array, as fhirpath.js returns (closures pass a variable's own list or a shared
 * constant along). fhirpath.js marks each resource it returns with a hidden `__path__` property, and throws when
 * the object is frozen: such a result is left to fhirpath.js. (Objects below a resource are checked in field().)
 */
function result(items: Collection): unknown[] {
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item === 'object' && item !== null && !Object.isExtensible(item)) {
      const record = item as { resourceType?: unknown; __path__?: unknown };
      if (record.resourceType && !record.__path__) fallBack();
    }
  }
  return items.slice();
}

/** fhirpath.js's data root: the facts as a one-item collection. */
function rootCollection(facts: PatientFacts | readonly unknown[] | null | undefined): Collection {
  if (facts === null || facts === undefined) return EMPTY;
  if (Array.isArray(facts)) return checkedList(facts);
  return [facts];
}

const join = (a: Origin, b: Origin): Origin => (a === b || b === 'none' ? a : a === 'none' ? b : 'mixed');

/** A node whose One is its Run over one-item collections (for the rarely used ones). */
function viaRun(run: Run, origin: Origin): Compiled {
  return { run, one: (input, self, vars) => collapse(run(lift(input), lift(self), vars)), origin };
}

function compile(node: FhirPathNode, self: Origin, input: Origin): Compiled | undefined {
  const children = node.children ?? [];
  const only = children.length === 1 ? children[0] : undefined;
  switch (node.type) {
    case 'EntireExpression':
    case 'InvocationTerm':
    case 'TermExpression':
    case 'ParenthesizedTerm':
    case 'LiteralTerm':
      return only && compile(only, self, input);
    case 'InvocationExpression':
      return compileChain(children, self, input);
    case 'StringLiteral':
      return node.text === undefined ? undefined : constant(stringLiteralValue(node.text), 'none');
    case 'BooleanLiteral':
      return constant(node.text === 'true', 'none');
    case 'NumberLiteral':
      return node.text !== undefined && /^\d+(\.\d+)?$/.test(node.text) && String(Number(node.text)) === node.text
        ? constant(Number(node.text), 'decimal')
        : undefined;
    case 'NullLiteral':
      return constant(undefined, 'none');
    case 'ExternalConstantTerm': {
      const name = node.delimitedText ? stringLiteralValue(node.delimitedText) : node.text;
      if (!name) return undefined;
      return { run: (_input, _self, vars) => variable(vars, name), one: (_input, _self, vars) => variableOne(vars, name), origin: 'raw' };
    }
    case 'ThisInvocation':
      return { run: (_input, current) => current, one: (_input, current) => current, origin: self };
    case 'MemberInvocation': {
      const key = only?.type === 'Identifier' && only.text !== undefined ? identifierValue(only.text) : undefined;
      // Capitalised names can be type names (`MedicationRequest.x`), which fhirpath.js resolves by type.
      if (key === undefined || !/^[a-z][A-Za-z0-9_]*$/.test(key)) return undefined;
      const shadow = `_${key}`;
      return {
        run: (items) => member(items, key, shadow),
        one: (item) => (item === undefined ? undefined : field(item, key, shadow)),
        origin: 'decimal',
      };
    }
    case 'FunctionInvocation':
      return only?.type === 'Functn' ? compileFunction(only, self, input) : undefined;
    case 'EqualityExpression':
    case 'InequalityExpression':
    case 'AndExpression':
    case 'OrExpression':
    case 'ImpliesExpression':
    case 'AdditiveExpression':
      return children.length === 2 ? compileOperator(node.text, children[0]!, children[1]!, self) : undefined;
    default:
      return undefined;
  }
}

/** A literal: one value, or undefined for `{}`. */
function constant(value: unknown, origin: Origin): Compiled {
  const items = value === true ? TRUE : value === false ? FALSE : lift(value);
  return { run: () => items, one: () => value, origin };
}

/** `a.b.f()`: each step applied to the result of the previous one. */
function compileChain(children: FhirPathNode[], self: Origin, input: Origin): Compiled | undefined {
  const steps: Compiled[] = [];
  let origin = input;
  for (const child of children) {
    const step = compile(child, self, origin);
    if (!step) return undefined;
    steps.push(step);
    origin = step.origin;
  }
  if (steps.length === 0) return undefined;
  if (steps.length === 1) return steps[0];
  const runs = steps.map((s) => s.run);
  const ones = steps.map((s) => s.one);
  if (steps.length === 2) {
    const [run1, run2] = runs as [Run, Run];
    const [one1, one2] = ones as [One, One];
    return {
      run: (items, current, vars) => run2(run1(items, current, vars), current, vars),
      one: (item, current, vars) => {
        const value = one1(item, current, vars);
        return value === MANY ? MANY : one2(value, current, vars);
      },
      origin,
    };
  }
  return {
    run: (items, current, vars) => {
      let value = items;
      for (const run of runs) value = run(value, current, vars);
      return value;
    },
    one: (item, current, vars) => {
      let value = item;
      for (const one of ones) {
        value = one(value, current, vars);
        if (value === MANY) return MANY;
      }
      return value;
    },
    origin,
  };
}

function compileFunction(functn: FhirPathNode, self: Origin, input: Origin): Compiled | undefined {
  const [identifier, paramList, ...rest] = functn.children ?? [];
  if (identifier?.type !== 'Identifier' || identifier.text === undefined || rest.length > 0) return undefined;
  if (paramList && paramList.type !== 'ParamList') return undefined;
  const name = identifierValue(identifier.text);
  const params = paramList?.children ?? [];
  if (paramList && params.length === 0) return undefined;

  if (params.length === 0) {
    switch (name) {
      case 'exists':
        return { run: (items) => booleanOf(items.length > 0), one: (item) => item !== undefined, origin: 'none' };
      case 'empty':
        return { run: (items) => booleanOf(items.length === 0), one: (item) => item === undefined, origin: 'none' };
      case 'not':
        return { run: (items) => maybeBoolean(not(truth(items))), one: (item) => not(truthOf(item)), origin: 'none' };
      case 'count':
        return { run: (items) => [items.length], one: (item) => (item === undefined ? 0 : 1), origin: 'raw' };
      case 'first':
        return { run: (items) => (items.length === 0 ? EMPTY : [items[0]]), one: (item) => item, origin: input };
      case 'last':
        return { run: (items) => (items.length === 0 ? EMPTY : [items[items.length - 1]]), one: (item) => item, origin: input };
      case 'min':
        return { run: (items) => extreme(items, '<', input), one: (item) => item, origin: input };
      case 'max':
        return { run: (items) => extreme(items, '>', input), one: (item) => item, origin: input };
      case 'toString':
        return { run: (items) => lift(stringOf(collapse(items))), one: (item) => stringOf(item), origin: 'none' };
      default:
        return undefined;
    }
  }

  if (name === 'where' || name === 'exists') {
    if (params.length !== 1) return undefined;
    // The criterion sees one item at a time, as its input and as `$this`.
    const criterion = compile(params[0]!, input, input);
    if (!criterion) return undefined;
    const { run: test, one: testOne } = criterion;
    const holds = (item: unknown, vars: Variables): boolean => {
      const value = testOne(item, item, vars);
      if (value !== MANY) return value !== undefined && (typeof value !== 'boolean' || value);
      const items = [item];
      return isTrue(test(items, items, vars));
    };
    if (name === 'where') {
      return {
        run: (items, _self, vars) => items.filter((item) => holds(item, vars)),
        one: (item, _self, vars) => (item !== undefined && holds(item, vars) ? item : undefined),
        origin: input,
      };
    }
    return {
      run: (items, _self, vars) => booleanOf(items.some((item) => holds(item, vars))),
      one: (item, _self, vars) => item !== undefined && holds(item, vars),
      origin: 'none',
    };
  }

  if (name === 'combine') {
    if (params.length !== 1) return undefined;
    // fhirpath.js evaluates combine()'s argument against `$this`, not against combine()'s input.
    const other = compile(params[0]!, self, self);
    if (!other) return undefined;
    const run = other.run;
    return viaRun((items, current, vars) => items.concat(run(current, current, vars)), join(input, other.origin));
  }

  if (name === 'iif') {
    if (params.length !== 2 && params.length !== 3) return undefined;
    // Each argument is evaluated against iif()'s input, which is also its `$this`.
    const [condition, then, otherwise] = params.map((p) => compile(p, input, input));
    if (!condition || !then || (params.length === 3 && !otherwise)) return undefined;
    return {
      run: (items, _self, vars) => {
        // fhirpath.js's iif() takes only a single `true` as true (not isTrue()).
        const c = condition.run(items, items, vars);
        if (c.length === 1 && c[0] === true) return then.run(items, items, vars);
        return otherwise ? otherwise.run(items, items, vars) : EMPTY;
      },
      one: (item, _self, vars) => {
        const c = condition.one(item, item, vars);
        if (c === MANY) return MANY;
        if (c === true) return then.one(item, item, vars);
        return otherwise ? otherwise.one(item, item, vars) : undefined;
      },
      origin: otherwise ? join(then.origin, otherwise.origin) : then.origin,
    };
  }
  return undefined;
}

type Comparison = '<' | '<=' | '>' | '>=';

function compileOperator(op: string | undefined, leftNode: FhirPathNode, rightNode: FhirPathNode, self: Origin): Compiled | undefined {
  // Operands are evaluated against `$this`, like fhirpath.js's infix operators; both always are.
  const left = compile(leftNode, self, self);
  const right = compile(rightNode, self, self);
  if (!left || !right) return undefined;
  const { run: l, one: l1 } = left;
  const { run: r, one: r1 } = right;
  const binary = (onItems: (a: Collection, b: Collection) => Collection, onValues: (a: unknown, b: unknown) => unknown): Compiled => ({
    run: (_items, current, vars) => onItems(l(current, current, vars), r(current, current, vars)),
    one: (_item, current, vars) => {
      const a = l1(current, current, vars);
      if (a === MANY) return MANY;
      const b = r1(current, current, vars);
      return b === MANY ? MANY : onValues(a, b);
    },
    origin: 'none',
  });
  switch (op) {
    case '=':
    case '!=': {
      const negate = op === '!=';
      return binary(
        (a, b) => maybeBoolean(equals(a, b, negate)),
        (a, b) => (a === undefined || b === undefined ? undefined : sameValue(a, b) !== negate),
      );
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const mode = comparisonMode(left.origin, right.origin);
      return binary(
        (a, b) => maybeBoolean(compare(op, a, b, mode)),
        (a, b) => (a === undefined || b === undefined ? undefined : compareOrFallBack(op, a, b, mode)),
      );
    }
    case 'and':
    case 'or':
    case 'xor':
    case 'implies': {
      const logic = LOGIC[op];
      return binary(
        (a, b) => maybeBoolean(logic(truth(a), truth(b))),
        (a, b) => logic(truthOf(a), truthOf(b)),
      );
    }
    case '+':
      return binary(
        (a, b) => (a.length === 0 || b.length === 0 ? EMPTY : [concatenate(collapse(a), collapse(b))]),
        (a, b) => (a === undefined || b === undefined ? undefined : concatenate(a, b)),
      );
    default:
      return undefined;
  }
}

// ---- run-time semantics ---------------------------------------------------------------------------------------

/** A variable as fhirpath.js sees it: a list as is, one value as a one-item list, null/undefined as empty. */
function variable(vars: Variables, name: string): Collection {
  if (!(name in vars)) fallBack(); // fhirpath.js's own variables (%context, %ucum) or an error
  const value = vars[name];
  if (value === undefined || value === null) return EMPTY;
  if (Array.isArray(value)) return checkedList(value);
  if (typeof value === 'bigint') fallBack();
  return [value];
}

function variableOne(vars: Variables, name: string): unknown {
  if (!(name in vars)) fallBack();
  const value = vars[name];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return collapse(checkedList(value));
  if (typeof value === 'bigint') fallBack();
  return value;
}

/** A list is used as is unless it holds null/undefined (fhirpath.js counts those, then drops them) or bigints. */
function checkedList(list: readonly unknown[]): Collection {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (item === undefined || item === null || typeof item === 'bigint') fallBack();
  }
  return list;
}

/**
 * The record whose field is read. fhirpath.js reads fields of objects only in ways this module follows; a FHIR
 * `_key` sibling (extensions of a primitive) changes what it returns, so that is left to it.
 */
function recordOf(item: unknown, shadow: string): Record<string, unknown> {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) fallBack();
  const record = item as Record<string, unknown>;
  if (record[shadow] !== undefined) fallBack();
  return record;
}

/**
 * A field value as an item. Left to fhirpath.js: nested lists, null in a list (counted, then dropped), bigints
 * (returned as strings), and a frozen object not yet marked by fhirpath.js: below a resource (a medication's
 * codes), fhirpath.js throws when it returns one, and which objects are below a resource is not tracked here.
 */
function checkedValue(value: unknown): unknown {
  if (value === undefined || value === null || Array.isArray(value) || typeof value === 'bigint') fallBack();
  if (typeof value === 'object' && !Object.isExtensible(value) && !(value as { __path__?: unknown }).__path__) fallBack();
  return value;
}

/** `items.key`: each item's field, lists flattened, absent fields skipped. */
function member(items: Collection, key: string, shadow: string): Collection {
  const out: unknown[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    // fhirpath.js: an item whose resourceType is the name stands for itself (`MedicationRequest` selects requests).
    if ((item as { resourceType?: unknown } | null)?.resourceType === key && typeof item === 'object') {
      out.push(item);
      continue;
    }
    const value = recordOf(item, shadow)[key];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (let j = 0; j < value.length; j++) out.push(checkedValue(value[j]));
    } else {
      out.push(checkedValue(value));
    }
  }
  return out;
}

/** member() over one item. */
function field(item: unknown, key: string, shadow: string): unknown {
  if ((item as { resourceType?: unknown } | null)?.resourceType === key && typeof item === 'object') return item;
  const value = recordOf(item, shadow)[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) return checkedValue(value);
  if (value.length === 0) return undefined;
  return value.length === 1 ? checkedValue(value[0]) : MANY;
}

/** A collection as a boolean operand: undefined when empty; one non-boolean item is true; more is an error. */
function truth(items: Collection): boolean | undefined {
  if (items.length > 1) fallBack();
  return truthOf(items[0]);
}

function truthOf(value: unknown): boolean | undefined {
  return value === undefined ? undefined : typeof value === 'boolean' ? value : true;
}

const not = (value: boolean | undefined): boolean | undefined => (value === undefined ? undefined : !value);

type Logic = (a: boolean | undefined, b: boolean | undefined) => boolean | undefined;

/** Three-valued logic, as fhirpath.js's logic.js (undefined = empty). */
const LOGIC: Record<'and' | 'or' | 'xor' | 'implies', Logic> = {
  and: (a, b) => (a === false || b === false ? false : a === undefined || b === undefined ? undefined : true),
  or: (a, b) => (a === true || b === true ? true : a === undefined || b === undefined ? undefined : false),
  xor: (a, b) => (a === undefined || b === undefined ? undefined : a !== b),
  implies: (a, b) => (a === false || b === true ? true : a === undefined || b === undefined ? undefined : false),
};

/** fhirpath.js's numbers.roundToMaxPrecision: decimals are equal/compared at 1e-8. */
const PRECISION_STEP = 1e-8;
const roundToMaxPrecision = (x: number): number => Math.round(x / PRECISION_STEP) * PRECISION_STEP;

/**
 * `x = y` for two items, as fhirpath.js's deepEqual: numbers equal after rounding, strings and booleans by
 * value, different types never equal. Objects (deep comparison, or identity) and NaN (equal to itself when
 * fhirpath.js compares one FP_Decimal object with itself, as in `$this = $this`) are left to fhirpath.js.
 */
function sameValue(x: unknown, y: unknown): boolean {
  const decided = equalOrUndecided(x, y);
  return decided === undefined ? fallBack() : decided;
}

function equalOrUndecided(x: unknown, y: unknown): boolean | undefined {
  const tx = typeof x;
  const ty = typeof y;
  if (tx === 'number' && ty === 'number') {
    if (Number.isNaN(x) || Number.isNaN(y)) return undefined;
    return roundToMaxPrecision(x as number) === roundToMaxPrecision(y as number);
  }
  if ((tx === 'string' || tx === 'number' || tx === 'boolean') && (ty === 'string' || ty === 'number' || ty === 'boolean')) return x === y;
  return undefined;
}

/** `a = b` (`a != b` when `negate`) on collections: empty if either is; else equal lengths and items in order. */
function equals(a: Collection, b: Collection, negate: boolean): boolean | undefined {
  if (a.length === 0 || b.length === 0) return undefined;
  if (a.length !== b.length) return negate;
  let undecided = false;
  for (let i = 0; i < a.length; i++) {
    const equal = equalOrUndecided(a[i], b[i]);
    // One pair that differs decides, whatever the undecided pairs hold.
    if (equal === false) return negate;
    if (equal === undefined) undecided = true;
  }
  if (undecided) fallBack();
  return !negate;
}

/** How two numbers are compared: rounded when either is an FP_Decimal, as is when both are plain numbers. */
type Mode = 'decimal' | 'raw' | 'check';

function comparisonMode(a: Origin, b: Origin): Mode {
  if (a === 'decimal' || b === 'decimal') return 'decimal';
  if (a === 'mixed' || b === 'mixed') return 'check';
  return 'raw';
}

function jsCompare(op: Comparison, x: number | string | boolean, y: number | string | boolean): boolean {
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

/** FP_Decimal_Native.compare(): both sides rounded to 1e-8; NaN compares as equal. */
function decimalCompare(op: Comparison, x: number, y: number): boolean {
  const rx = roundToMaxPrecision(x);
  const ry = roundToMaxPrecision(y);
  const c = rx < ry ? -1 : rx > ry ? 1 : 0;
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

/**
 * `x op y` for two items. fhirpath.js throws for two different types (and would compare objects by their
 * string form): left to it, as is a pair of numbers whose order depends on which kind of number each is.
 */
function compareOrFallBack(op: Comparison, x: unknown, y: unknown, mode: Mode): boolean {
  const tx = typeof x;
  if (tx !== typeof y) fallBack();
  if (tx === 'number') {
    if (mode === 'decimal') return decimalCompare(op, x as number, y as number);
    const plain = jsCompare(op, x as number, y as number);
    if (mode === 'raw' || plain === decimalCompare(op, x as number, y as number)) return plain;
    fallBack();
  }
  if (tx === 'string' || tx === 'boolean') return jsCompare(op, x as string | boolean, y as string | boolean);
  return fallBack();
}

/** `a op b` on collections: empty if either is; more than one item is an error in fhirpath.js. */
function compare(op: Comparison, a: Collection, b: Collection, mode: Mode): boolean | undefined {
  if (a.length === 0 || b.length === 0) return undefined;
  if (a.length !== 1 || b.length !== 1) fallBack();
  return compareOrFallBack(op, a[0], b[0], mode);
}

/** min()/max(): the first item that no later item is strictly below/above (fhirpath.js's aggregate shortcut). */
function extreme(items: Collection, op: '<' | '>', origin: Origin): Collection {
  if (items.length === 0) return EMPTY;
  const mode: Mode = origin === 'decimal' ? 'decimal' : origin === 'mixed' ? 'check' : 'raw';
  let best = items[0];
  for (let i = 1; i < items.length; i++) {
    if (compareOrFallBack(op, items[i], best, mode)) best = items[i];
  }
  return [best];
}

/** toString() of at most one item (undefined: empty); more than one item (MANY) is an error in fhirpath.js. */
function stringOf(value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return fallBack();
}

/** `+`, compiled for two strings only (numbers become FP_Decimal arithmetic in fhirpath.js). */
function concatenate(x: unknown, y: unknown): string {
  return typeof x === 'string' && typeof y === 'string' ? x + y : fallBack();
}

// ---- literals, as fhirpath.js reads them ------------------------------------------------------------------------

function handleStringEscapes(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (match: string, sub: string) => {
    switch (match) {
      case '\\r':
        return '\r';
      case '\\n':
        return '\n';
      case '\\t':
        return '\t';
      case '\\f':
        return '\f';
      default:
        return sub.length > 1 ? String.fromCharCode(parseInt(sub.slice(1), 16)) : sub;
    }
  });
}

/** 'text' → text, escapes resolved. */
function stringLiteralValue(text: string): string {
  return text.startsWith("'") && text.endsWith("'") ? handleStringEscapes(text.slice(1, -1)) : text;
}

/** `name` or `` `name` `` → name. */
function identifierValue(text: string): string {
  return text.startsWith('`') && text.endsWith('`') ? handleStringEscapes(text.slice(1, -1)) : text;
}
