/**
 * Card text templates: literal text with `{{name}}` or `{{name.field}}` placeholders.
 * A placeholder stands for a list of values (the binding's items) and renders as prose:
 * "oxycodone", "oxycodone and codeine", "A, B and C"; numbers lose trailing zeros (4.50 → 4.5).
 * Summaries are kept under 140 characters by listing fewer items ("A, B and 2 more"), then by
 * shortening names at a word boundary, never mid-word.
 */

import { SUMMARY_MAX_LENGTH } from '../model/cards.js';

export interface Placeholder {
  /** Binding, parameter or `findings`. */
  name: string;
  /** Field of each item, e.g. `name`, `dailyDoseMg`. */
  field?: string;
}

export type TemplatePart = { literal: string } | { placeholder: Placeholder };

/** What a placeholder renders: a list of values (written as prose) or text inserted as is. */
export type PlaceholderValue = string[] | { verbatim: string };

export class TemplateError extends Error {
  override name = 'TemplateError';
}

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9]*)(?:\.([A-Za-z][A-Za-z0-9]*))?\s*\}\}/g;

/** Split a template into literal text and placeholders. Throws TemplateError on a malformed `{{…}}`. */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push({ literal: text.slice(last, match.index) });
    const [, name = '', field] = match;
    parts.push({ placeholder: field === undefined ? { name } : { name, field } });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ literal: text.slice(last) });
  const stray = parts.find((p) => 'literal' in p && /\{\{|\}\}/.test(p.literal));
  if (stray && 'literal' in stray) {
    throw new TemplateError(`malformed placeholder near "${stray.literal.trim().slice(0, 40)}": use {{name}} or {{name.field}}`);
  }
  return parts;
}

export function placeholdersOf(parts: readonly TemplatePart[]): Placeholder[] {
  return parts.flatMap((p) => ('placeholder' in p ? [p.placeholder] : []));
}

/** Length of the template's fixed text, i.e. the shortest the rendered text can be. */
export function literalLength(parts: readonly TemplatePart[]): number {
  return parts.reduce((n, p) => n + ('literal' in p ? p.literal.length : 0), 0);
}

/**
 * Join hard-wrapped lines of Markdown paragraphs and list items, so a client that shows every newline
 * as a line break still shows flowing text. Blank lines, list items, headings, quotes and a line that is
 * only a placeholder start a new block.
 */
export function unwrapSoftBreaks(markdown: string): string {
  const lines: string[] = [];
  for (const line of markdown.split('\n')) {
    const text = line.trim();
    const previous = lines[lines.length - 1];
    const startsBlock = text === '' || /^([-*+]\s|\d+\.\s|#|>)/.test(text) || /^\{\{[^}]*\}\}$/.test(text);
    if (!startsBlock && previous !== undefined && previous !== '') lines[lines.length - 1] = `${previous} ${text}`;
    else lines.push(startsBlock ? line.trimEnd() : text);
  }
  return lines.join('\n');
}

/** Backslash-escape the characters that would make text a link, image, HTML, emphasis, code or table in GFM. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|~!]/g, (c) => `\\${c}`);
}

/** 4.5 → "4.5", 3 → "3", 0.30000000000000004 → "0.3". */
export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(3)));
}

/** A fact value as card text: numbers without trailing zeros, booleans as yes/no, items by their name. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const { name, display, code } = value as { name?: unknown; display?: unknown; code?: unknown };
    return String(name ?? display ?? code ?? '');
  }
  return '';
}

/**
 * A list as prose, showing at most `shown` items: "A", "A and B", "A, B and C", "A, B and 2 more".
 * An empty list renders as "not recorded".
 */
export function formatList(items: readonly string[], shown = items.length): string {
  if (items.length === 0) return 'not recorded';
  const count = Math.max(1, Math.min(shown, items.length));
  const head = items.slice(0, count);
  const hidden = items.length - count;
  if (hidden > 0) return `${head.join(', ')} and ${hidden} more`;
  return head.length === 1 ? (head[0] ?? '') : `${head.slice(0, -1).join(', ')} and ${head[head.length - 1] ?? ''}`;
}

/**
 * Shorten `text` to at most `limit` characters, ending at a word boundary with "…".
 * Returns undefined when that would mean cutting inside the first word.
 */
export function truncateAtWord(text: string, limit: number): string | undefined {
  if (text.length <= limit) return text;
  const head = text.slice(0, limit - 1);
  const boundary = text[limit - 1] === ' ' ? head.length : head.lastIndexOf(' ');
  if (boundary <= 0) return undefined;
  const kept = head.slice(0, boundary).replace(/[\s,;:(\-–]+$/u, '');
  return kept ? `${kept}…` : undefined;
}

/** Render a template with every list in full (detail text, findings, suggestion labels). */
export function renderCardText(parts: readonly TemplatePart[], valueOf: (p: Placeholder) => PlaceholderValue): string {
  return parts.map((p) => ('literal' in p ? p.literal : prose(valueOf(p.placeholder)))).join('');
}

const prose = (value: PlaceholderValue): string => (Array.isArray(value) ? formatList(value) : value.verbatim);

/** Shortest a name is cut to when a summary is too long. */
const MIN_NAME_LENGTH = 12;

/**
 * Render a summary of at most `maxLength` characters: first list fewer items of the longest list,
 * then shorten the longest names at a word boundary, and only then cut the whole text at a word boundary.
 */
export function renderSummary(
  parts: readonly TemplatePart[],
  valueOf: (p: Placeholder) => PlaceholderValue,
  maxLength = SUMMARY_MAX_LENGTH,
): string {
  const values = parts.map((p) => ('placeholder' in p ? copyValue(valueOf(p.placeholder)) : undefined));
  /** The same arrays as in `values`, so shortening a name here changes what compose() writes. */
  const lists = values.map((v) => (Array.isArray(v) ? v : undefined));
  const shown = lists.map((l) => l?.length ?? 0);
  const compose = (): string =>
    parts
      .map((p, i) => {
        if ('literal' in p) return p.literal;
        const value = values[i];
        if (!value) return '';
        return Array.isArray(value) ? formatList(value, shown[i]) : value.verbatim;
      })
      .join('');

  let text = compose();
  while (text.length > maxLength) {
    const i = indexOfMax(lists.map((l, j) => (l && (shown[j] ?? 0) > 1 ? formatList(l, shown[j]).length : -1)));
    if (i < 0) break;
    shown[i] = (shown[i] ?? 1) - 1;
    text = compose();
  }
  while (text.length > maxLength) {
    const shortened = shortenLongestName(lists, shown, text.length - maxLength);
    if (!shortened) break;
    text = compose();
  }
  if (text.length <= maxLength) return text;
  return truncateAtWord(text, maxLength) ?? `${text.slice(0, maxLength - 1)}…`;
}

function copyValue(value: PlaceholderValue): PlaceholderValue {
  return Array.isArray(value) ? [...value] : value;
}

function indexOfMax(scores: number[]): number {
  let best = -1;
  scores.forEach((score, i) => {
    if (score >= 0 && (best < 0 || score > (scores[best] ?? -1))) best = i;
  });
  return best;
}

/** Shorten the longest visible name that can be shortened by `excess` characters (or to MIN_NAME_LENGTH). */
function shortenLongestName(lists: (string[] | undefined)[], shown: number[], excess: number): boolean {
  const visible = lists.flatMap((list, i) => (list ? list.slice(0, shown[i]).map((name, k) => ({ list, k, name })) : []));
  visible.sort((a, b) => b.name.length - a.name.length);
  for (const { list, k, name } of visible) {
    if (name.length <= MIN_NAME_LENGTH) return false;
    const shorter = truncateAtWord(name, Math.max(name.length - excess, MIN_NAME_LENGTH));
    if (shorter && shorter.length < name.length) {
      list[k] = shorter;
      return true;
    }
  }
  return false;
}
