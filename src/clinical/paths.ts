/**
 * The FHIRPath expressions that fact extraction reads from resources, compiled to plain property access.
 *
 * Extraction reads simple paths: member steps (`timing.repeat.when`), a choice element by type
 * (`medication.ofType(CodeableConcept)` → `medicationCodeableConcept`), a bare choice element (`abatement`) and
 * unions of those (`route.text | route.coding.display`). fhirpath.js evaluates them correctly but slowly: it wraps
 * every node and consults the model per step, which made it most of the cost of reading a chart for the first time
 * (5,000 statements: ~0.5 s). The expressions stay the specification: each reader is tested against fhirpath.js with
 * the R4 model on every fixture resource and on edge cases (tests/clinical/paths.test.ts), and an expression outside
 * this subset is refused when the module loads, never guessed at.
 *
 * Semantics kept from fhirpath.js: arrays flatten; null and absent values (a primitive known only by its `_name`
 * extension) yield nothing; a choice element yields its first present type in the model's order (ofType then keeps
 * it or not); a union
 * keeps first occurrences and drops later equal items; values are the resource's own objects, never copies.
 */
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { isObject } from '../model/chart.js';

/** Reads one compiled path from a resource or element: the collection fhirpath.js would return. */
export type PathReader = (node: unknown) => unknown[];

type Step = (items: unknown[]) => unknown[];

const CHOICES = (r4 as { choiceTypePaths: Record<string, string[]> }).choiceTypePaths;

function push(out: unknown[], value: unknown): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const v of value) if (v !== null && v !== undefined) out.push(v);
  } else out.push(value);
}


function member(name: string): Step {
  return (items) => {
    const out: unknown[] = [];
    for (const item of items) if (isObject(item)) push(out, item[name]);
    return out;
  };
}

/**
 * A choice element: on each item, the first of its typed properties present, in the model's order (a resource
 * that wrongly carries two, e.g. medicationCodeableConcept and medicationReference, yields the first); with
 * `only`, that value is kept only when it is of that property (ofType).
 */
function choice(properties: readonly string[], only?: string): Step {
  return (items) => {
    const out: unknown[] = [];
    for (const item of items) {
      if (!isObject(item)) continue;
      for (const p of properties) {
        if (item[p] !== undefined && item[p] !== null) {
          if (only === undefined || p === only) push(out, item[p]);
          break;
        }
      }
    }
    return out;
  };
}

/** FHIRPath equality of the values extraction reads (primitives and plain JSON objects). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!isObject(a) && !Array.isArray(a)) return false;
  if (!isObject(b) && !Array.isArray(b)) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function union(readers: readonly PathReader[]): PathReader {
  return (node) => {
    const out: unknown[] = [];
    for (const read of readers) for (const v of read(node)) if (!out.some((o) => sameValue(o, v))) out.push(v);
    return out;
  };
}

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const PATH_TYPES = (r4 as { path2Type: Record<string, string> }).path2Type;
const NAME = /^[A-Za-z][A-Za-z0-9]*$/;
const OF_TYPE = /^ofType\(([A-Za-z][A-Za-z0-9]*)\)$/;

/** Where a step lands in the model: a backbone element keeps its path, a datatype starts from the type's name. */
function modelPathAfter(path: string): string {
  const type = PATH_TYPES[path];
  return type && type !== 'Element' && type !== 'BackboneElement' ? type : path;
}

/** The choice types of `name` under each model path in `at`, or undefined when it is not a choice element. */
function choiceTypes(at: readonly string[], name: string, expression: string): string[] | undefined {
  const found = at.map((p) => CHOICES[`${p}.${name}`]).filter((t): t is string[] => !!t);
  if (found.length === 0) return undefined;
  if (found.length !== at.length || found.some((t) => t.join() !== found[0]!.join())) {
    throw new Error(`"${expression}": ${name} is a choice element for some of ${at.join(', ')} only`);
  }
  return found[0];
}

function compileSingle(expression: string, bases: readonly string[]): PathReader {
  const parts = expression.split(/\.(?![^(]*\))/); // dots outside ofType(...)
  const steps: Step[] = [];
  let at = [...bases];
  for (let i = 0; i < parts.length; i++) {
    const name = parts[i]!;
    if (!NAME.test(name)) throw new Error(`unsupported extraction path "${expression}" (step "${name}")`);
    const types = choiceTypes(at, name, expression);
    const typed = OF_TYPE.exec(parts[i + 1] ?? '');
    if (typed && !types && at.every((p) => PATH_TYPES[`${p}.${name}`] === undefined)) {
      // Not an element of this type at all (e.g. effective[x] on a MedicationRequest): fhirpath.js finds no typed
      // value there, so neither does the reader.
      steps.push(() => []);
      i++;
    } else if (typed) {
      const type = upperFirst(typed[1]!);
      if (!types?.includes(type)) throw new Error(`"${expression}": ${name} has no choice type ${typed[1]}`);
      steps.push(choice(types.map((t) => `${name}${t}`), `${name}${type}`));
      at = [type];
      i++;
    } else if (types) {
      steps.push(choice(types.map((t) => `${name}${t}`)));
      at = types;
    } else {
      steps.push(member(name));
      at = at.map((p) => modelPathAfter(`${p}.${name}`));
    }
  }
  return (node) => {
    let items: unknown[] = node === null || node === undefined ? [] : [node];
    for (const step of steps) items = step(items);
    return items;
  };
}

/**
 * Compile an extraction path for elements of the given FHIR types (e.g. ["Condition"], ["Dosage"],
 * ["MedicationStatement", "MedicationRequest"], ["Medication.ingredient"]). Throws on anything outside the subset.
 */
export function compilePath(expression: string, bases: readonly string[]): PathReader {
  const branches = expression.split('|').map((b) => b.trim());
  if (branches.some((b) => !b)) throw new Error(`unsupported extraction path "${expression}"`);
  const readers = branches.map((b) => compileSingle(b, bases));
  return readers.length === 1 ? readers[0]! : union(readers);
}

/** compilePath for every expression of a table; the result has the same keys. */
export function compilePaths<T extends Record<string, string>>(paths: T, bases: readonly string[]): Record<keyof T, PathReader> {
  return Object.fromEntries(Object.entries(paths).map(([k, expr]) => [k, compilePath(expr, bases)])) as Record<keyof T, PathReader>;
}
