/**
 * The shapes shared by the two FHIRPath evaluators of rules (fhirpath.ts: fhirpath.js; fhirpath-compiled.ts: the
 * closures it compiles to) and the one definition of when a condition's result holds. Its own file so neither
 * evaluator imports the other back.
 */
import type { PatientFacts } from '../model/facts.js';

export type Variables = Record<string, unknown>;

/** A compiled expression: evaluated with the facts as root and the variables as `%name`. */
export type Expression = (facts: PatientFacts, variables: Variables) => unknown[];

/** A node of the tree fhirpath.js's parse() returns (the fields used here). */
export interface FhirPathNode {
  type: string;
  text?: string;
  delimitedText?: string;
  children?: FhirPathNode[];
}

/**
 * Whether a condition's result holds: it holds when it contains `true` or any non-boolean item;
 * empty, or only `false`, does not. For a single item this is FHIRPath's boolean evaluation; a list,
 * which FHIRPath calls an error, holds when any item would, so a safety rule never fails at run time.
 * `valueOf` unwraps an item first (fhirpath.js's typed values: `fhirpath.util.valData`).
 */
export function isTrue(result: readonly unknown[], valueOf?: (item: unknown) => unknown): boolean {
  for (let i = 0; i < result.length; i++) {
    const value = valueOf ? valueOf(result[i]) : result[i];
    if (typeof value !== 'boolean' || value) return true;
  }
  return false;
}
