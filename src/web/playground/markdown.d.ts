/** Types for markdown.js (plain ES module served to the browser as is; tested in node). */
export type Inline =
  | { type: 'text'; text: string }
  | { type: 'strong' | 'em'; children: Inline[] }
  | { type: 'code'; text: string }
  | { type: 'link'; href: string; children: Inline[] };

export type Block =
  | { type: 'paragraph'; children: Inline[] }
  | { type: 'heading'; level: number; children: Inline[] }
  | { type: 'list'; ordered: boolean; start: number; items: Inline[][] }
  | { type: 'code'; text: string };

/** The minimal document interface renderMarkdown uses. */
export interface MinimalDocument {
  createElement(tag: string): MinimalElement;
  createTextNode(text: string): unknown;
  createDocumentFragment(): MinimalElement;
}
export interface MinimalElement {
  appendChild(child: unknown): unknown;
  setAttribute(name: string, value: string): void;
}

export function safeHref(raw: unknown): string | null;
export function parseMarkdown(source: unknown): Block[];
export function parseInline(text: string, depth?: number): Inline[];
export function escapeHtml(text: unknown): string;
export function toHtml(source: unknown, options?: { headingOffset?: number }): string;
export function renderMarkdown<D extends MinimalDocument>(source: unknown, doc?: D, options?: { headingOffset?: number }): ReturnType<D['createDocumentFragment']>;
