/**
 * FHIRPath `memberOf('<canonical url>')` for rule files: value sets named by their `url`, as FHIRPath defines it.
 * Any FHIR ValueSet JSON in cds-services/valuesets/ is loaded by its url (src/clinical/valuesets.ts: an expansion or
 * compose of explicit codes, with the ATC and ICD-10-CM hierarchies that loader knows).
 *
 * On each input item:
 * - a coding (`system` and `code`, e.g. an item of `codes`): true when it is in the value set;
 * - a CodeableConcept (`coding`): true when any of its codings is;
 * - a medication or condition fact (`codes`): true when any of its codings, or of its ingredients' codings, is;
 * - anything else: false.
 * One boolean per input item, so `%conditions.where(memberOf('…'))` keeps the conditions in the value set.
 *
 * The url must be a string literal known at load time: an unknown url is a start-up error naming the rule, the
 * expression and the url. Expressions using memberOf() run on fhirpath.js (it is outside the compiled subset).
 */
import type { UserInvocationTable } from 'fhirpath';
import type { CodingLike } from '../clinical/valuesets.js';

/** What memberOf() needs of the loaded value sets (ValueSetIndex). */
export interface ValueSetLookup {
  idOfUrl(url: string): string | undefined;
  has(valueSetId: string, coding: CodingLike): boolean;
  readonly urls: string[];
}

interface AstNode {
  type: string;
  text?: string;
  children?: AstNode[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const codingsOf = (list: unknown): CodingLike[] => (Array.isArray(list) ? list.filter(isObject) : []);

/** The codings an input item stands for (see the header). */
function itemCodings(item: unknown): CodingLike[] {
  if (!isObject(item)) return [];
  if (Array.isArray(item.codes)) {
    const ingredients = Array.isArray(item.ingredients) ? item.ingredients.filter(isObject).flatMap((i) => codingsOf(i.codes)) : [];
    return [...codingsOf(item.codes), ...ingredients];
  }
  if (Array.isArray(item.coding)) return codingsOf(item.coding);
  if (typeof item.system === 'string' && typeof item.code === 'string') return [item as CodingLike];
  return [];
}

/** The memberOf() entry of a fhirpath.js userInvocationTable, bound to `valueSets`. */
export function memberOfFunctions(valueSets: ValueSetLookup): UserInvocationTable {
  return {
    memberOf: {
      fn(items: unknown[], url: unknown) {
        const id = typeof url === 'string' ? valueSets.idOfUrl(url) : undefined;
        if (id === undefined) throw new Error(`memberOf(): unknown value set url "${String(url)}"`);
        return items.map((item) => itemCodings(item).some((c) => valueSets.has(id, c)));
      },
      arity: { 1: ['String'] },
    },
  };
}

/** The argument texts of every memberOf() call in the tree (raw, as written, quotes included). */
function memberOfArguments(node: AstNode, out: AstNode[][]): AstNode[][] {
  if (node.type === 'FunctionInvocation') {
    const fn = node.children?.[0];
    const name = fn?.children?.find((c) => c.type === 'Identifier')?.text;
    if (name === 'memberOf') out.push(fn?.children?.find((c) => c.type === 'ParamList')?.children ?? []);
  }
  for (const child of node.children ?? []) memberOfArguments(child, out);
  return out;
}

/** A string literal's value ('…' with FHIRPath escapes), or undefined when the node is not one. */
function stringLiteral(node: AstNode): string | undefined {
  let n: AstNode | undefined = node;
  while (n && n.type !== 'StringLiteral' && n.children?.length === 1) n = n.children[0];
  if (!n || n.type !== 'StringLiteral' || n.text === undefined) return undefined;
  return n.text.slice(1, -1).replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r', f: '\f' })[c] ?? c);
}

/**
 * Problems with the memberOf() calls of `expression` (parsed as `ast`): a url that is not a string literal, or
 * that names no loaded value set. Empty when there are none (or no memberOf() at all).
 */
export function memberOfProblems(ast: AstNode, expression: string, valueSets: ValueSetLookup | undefined): string[] {
  const calls = memberOfArguments(ast, []);
  if (calls.length === 0) return [];
  if (!valueSets) return [`memberOf() in "${expression}" needs the knowledge pack's value sets (cds-services/valuesets/), which did not load`];
  return calls.flatMap((args) => {
    const url = args.length === 1 ? stringLiteral(args[0]!) : undefined;
    if (url === undefined) return [`memberOf() in "${expression}" takes one quoted value-set url, e.g. memberOf('http://example.org/fhir/ValueSet/x')`];
    if (valueSets.idOfUrl(url) !== undefined) return [];
    return [`unknown value set url "${url}" in memberOf() of "${expression}": no ValueSet in cds-services/valuesets/ has this url (known: ${valueSets.urls.join(', ') || 'none'})`];
  });
}
