/**
 * A tiny HTML builder: the `html` tagged template escapes every interpolated value unless it is already Html
 * (built by `html` itself). Strings never become markup by accident, so knowledge text such as
 * `<script>` or `" onmouseover=` renders as text.
 */

/** Markup that is safe to insert as is (only `html` and `raw` make it). */
export class Html {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

/** What may be interpolated: Html as is; strings and numbers escaped; lists joined; null, undefined and false as nothing. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for an HTML element body or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map((v: HtmlValue) => render(v)).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Trusted markup from this codebase (never from knowledge files or requests). */
export function raw(markup: string): Html {
  return new Html(markup);
}

/**
 * A link target that cannot run script: absolute http(s) URLs and relative paths pass; anything with another
 * scheme (javascript:, data:, …) becomes "#". The result is still escaped by `html` where it is used.
 */
export function safeHref(url: string): string {
  const trimmed = url.trim();
  if (/^https?:\/\//i.test(trimmed)) return trimmed;
  if (/^[a-z][a-z0-9+.-]*:/i.test(trimmed) || trimmed.startsWith('//')) return '#';
  return trimmed;
}
