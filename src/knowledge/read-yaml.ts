/**
 * Reading one knowledge file (cds-services/*.yaml): YAML syntax, then a zod schema.
 * Every problem becomes a KnowledgeError entry naming the file and the field path
 * (e.g. `rules/ldn-with-opioid.yaml: card.indicator: Invalid enum value ...`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { ZodType, ZodTypeDef } from 'zod';
import { KnowledgeError, zodProblems } from '../model/problems.js';


/**
 * Read `file`, parse it as YAML and validate it with `schema`.
 * `label` is how the file is named in errors (e.g. "rules/ldn-with-opioid.yaml").
 * Throws a KnowledgeError listing every schema issue at once.
 */
export function readKnowledgeFile<T>(file: string, label: string, schema: ZodType<T, ZodTypeDef, unknown>): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw KnowledgeError.one(label, '', `cannot be read: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw KnowledgeError.one(label, '', `YAML syntax error: ${e instanceof YAMLParseError ? yamlErrorText(e, text) : (e as Error).message}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new KnowledgeError(zodProblems(label, parsed.error));
  }
  return parsed.data;
}

/**
 * A YAML parse error on one line: the parser's sentence without its trailing code frame (which would leave a
 * dangling ":"), then the offending source line, e.g.
 * `Flow sequence ... end with a ] at line 6, column 1 (line 6: "bind:")`.
 */
export function yamlErrorText(error: YAMLParseError, text: string): string {
  const sentence = (error.message.split('\n')[0] ?? '').replace(/:\s*$/, '');
  const line = error.linePos?.[0]?.line;
  const source = line === undefined ? undefined : text.split(/\r?\n/)[line - 1]?.trim();
  return source ? `${sentence} (line ${line}: ${JSON.stringify(source.length > 80 ? `${source.slice(0, 77)}...` : source)})` : sentence;
}

/** The comment lines at the top of a YAML text, without their `#` (and the one space after it). */
export function leadingComment(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    if (/^\s*#/.test(line)) lines.push(line.replace(/^\s*# ?/, ''));
    else if (line.trim() === '' && lines.length === 0) continue;
    else break;
  }
  return lines;
}
