/**
 * The playground's card-detail Markdown renderer (src/web/playground/markdown.js): the subset it supports, and
 * that nothing in a card's text can become live HTML, script or a dangerous link — in the pure tree, in the
 * escaped HTML string, and in the DOM it builds (checked with a recording fake document).
 */
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { createEngine } from '../../src/engine/index.js';
import { parseHookRequest } from '../../src/hooks/request.js';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { createLogger } from '../../src/observability/logger.js';
import { parseMarkdown, renderMarkdown, safeHref, toHtml } from '../../src/web/playground/markdown.js';

/** A fake document that records every element, attribute and text node, and refuses any HTML-parsing API. */
function recordingDocument() {
  const elements: FakeElement[] = [];
  const texts: string[] = [];
  class FakeElement {
    children: unknown[] = [];
    attributes: Record<string, string> = {};
    constructor(readonly tagName: string) {}
    appendChild(child: unknown) {
      this.children.push(child);
      return child;
    }
    setAttribute(name: string, value: string) {
      this.attributes[name] = value;
    }
    set innerHTML(_v: string) {
      throw new Error('innerHTML must never be used');
    }
    set outerHTML(_v: string) {
      throw new Error('outerHTML must never be used');
    }
    insertAdjacentHTML() {
      throw new Error('insertAdjacentHTML must never be used');
    }
  }
  const doc = {
    createElement(tag: string) {
      const el = new FakeElement(tag);
      elements.push(el);
      return el;
    },
    createTextNode(text: string) {
      texts.push(text);
      return { text };
    },
    createDocumentFragment() {
      return new FakeElement('#fragment');
    },
  };
  return { doc, elements, texts };
}

const ALLOWED_TAGS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'strong', 'em', 'code', 'pre', 'a']);
const ALLOWED_ATTRIBUTES = new Set(['href', 'rel', 'target', 'start']);

const HOSTILE = [
  '<script>alert(1)</script>',
  '<img src=x onerror="alert(1)">',
  '<svg onload=alert(1)>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click]( javascript:alert(1))',
  '[click](java\tscript:alert(1))',
  '[click](javascript&colon;alert(1))',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[click](vbscript:msgbox(1))',
  '[click](//evil.example/x)',
  '[click](/relative/path)',
  '[**bold** <b onmouseover=alert(1)>](https://example.org/"onmouseover="alert(1))',
  '**<script>alert(1)</script>**',
  '- <img src=x onerror=alert(1)>\n- `<script>alert(1)</script>`',
  '# <script>alert(1)</script>',
  '```\n<script>alert(1)</script>\n```',
];

describe('the supported subset', () => {
  test('paragraphs, headings, lists, emphasis, code and links become a tree', () => {
    const tree = parseMarkdown(
      '# Title\n\n**Why.** Naltrexone *blocks* `opioid` receptors\nacross lines.\n\n- one\n- two **b**\n\n3. three\n4. four\n\nSee [the label](https://dailymed.nlm.nih.gov/x?a=1&b=2).',
    );
    expect(tree).toEqual([
      { type: 'heading', level: 1, children: [{ type: 'text', text: 'Title' }] },
      {
        type: 'paragraph',
        children: [
          { type: 'strong', children: [{ type: 'text', text: 'Why.' }] },
          { type: 'text', text: ' Naltrexone ' },
          { type: 'em', children: [{ type: 'text', text: 'blocks' }] },
          { type: 'text', text: ' ' },
          { type: 'code', text: 'opioid' },
          { type: 'text', text: ' receptors across lines.' },
        ],
      },
      {
        type: 'list',
        ordered: false,
        start: 1,
        items: [[{ type: 'text', text: 'one' }], [{ type: 'text', text: 'two ' }, { type: 'strong', children: [{ type: 'text', text: 'b' }] }]],
      },
      { type: 'list', ordered: true, start: 3, items: [[{ type: 'text', text: 'three' }], [{ type: 'text', text: 'four' }]] },
      {
        type: 'paragraph',
        children: [
          { type: 'text', text: 'See ' },
          { type: 'link', href: 'https://dailymed.nlm.nih.gov/x?a=1&b=2', children: [{ type: 'text', text: 'the label' }] },
          { type: 'text', text: '.' },
        ],
      },
    ]);
  });

  test('HTML output: escaped text, links open safely in a new tab, heading levels shift under the card', () => {
    expect(toHtml('## Dose\n\nUse 1 < 2 & [VA](https://www.va.gov/ms)', { headingOffset: 3 })).toBe(
      '<h5>Dose</h5>\n<p>Use 1 &lt; 2 &amp; <a href="https://www.va.gov/ms" rel="noopener noreferrer" target="_blank">VA</a></p>',
    );
  });

  test('list items continue over wrapped lines, and a blank line between items keeps one list', () => {
    const tree = parseMarkdown('- To start naltrexone after opioids,\n  the patient must first be opioid-free\n\n- second');
    expect(tree).toEqual([
      {
        type: 'list',
        ordered: false,
        start: 1,
        items: [[{ type: 'text', text: 'To start naltrexone after opioids, the patient must first be opioid-free' }], [{ type: 'text', text: 'second' }]],
      },
    ]);
  });

  test('unclosed delimiters, snake_case and escapes stay literal', () => {
    expect(toHtml('a **b and c_d_e and \\*not em\\* and `x')).toBe('<p>a **b and c_d_e and *not em* and `x</p>');
  });

  test('safeHref accepts absolute http(s) only, and normalises', () => {
    expect(safeHref('https://PubMed.ncbi.nlm.nih.gov/18728058/')).toBe('https://pubmed.ncbi.nlm.nih.gov/18728058/');
    expect(safeHref('http://example.org')).toBe('http://example.org/');
    for (const bad of ['javascript:alert(1)', ' javascript:alert(1)', 'JAVASCRIPT:x', 'data:text/html,x', '//evil.example', '/x', 'ftp://x.org', 'https://exa mple.org', 'https://x.org/\u0000', '', undefined, 42]) {
      expect(safeHref(bad), String(bad)).toBeNull();
    }
  });
});

describe('safety', () => {
  test.each(HOSTILE)('%s never yields live HTML or a non-http(s) link', (source) => {
    const html = toHtml(source);
    // Only the renderer's own tags appear as tags; everything from the source is escaped text.
    const tags = [...html.matchAll(/<\/?([a-zA-Z0-9]+)/g)].map((m) => m[1]!.toLowerCase());
    for (const tag of tags) expect(ALLOWED_TAGS.has(tag), `${tag} in ${html}`).toBe(true);
    expect(html).not.toMatch(/<(script|img|svg|iframe|b)\b/i);
    // Attributes: only href/rel/target, and every href is http(s).
    for (const m of html.matchAll(/\s([a-z-]+)="([^"]*)"/g)) {
      expect(['href', 'rel', 'target', 'start']).toContain(m[1]);
      if (m[1] === 'href') expect(m[2]).toMatch(/^https?:\/\//);
    }
    expect(html).not.toMatch(/<[^>]*\son[a-z]+\s*=/i); // no event handler inside any tag

    const { doc, elements, texts } = recordingDocument();
    renderMarkdown(source, doc);
    for (const el of elements) {
      expect(ALLOWED_TAGS.has(el.tagName), el.tagName).toBe(true);
      for (const [name, value] of Object.entries(el.attributes)) {
        expect(ALLOWED_ATTRIBUTES.has(name), name).toBe(true);
        if (name === 'href') expect(safeHref(value)).toBe(value);
      }
    }
    // The hostile markup is still shown to the reader, as text.
    if (source.includes('<script>')) expect(texts.join('')).toContain('<script>alert(1)</script>');
  });

  test('a javascript: link keeps its label as plain text and makes no anchor', () => {
    const { doc, elements, texts } = recordingDocument();
    renderMarkdown('[click me](javascript:alert(1))', doc);
    expect(elements.map((e) => e.tagName)).toEqual(['p']);
    expect(texts.join('')).toBe('click me');
  });

  test('links built in the DOM carry rel="noopener noreferrer" and target _blank', () => {
    const { doc, elements } = recordingDocument();
    renderMarkdown('[Gironi 2008](https://pubmed.ncbi.nlm.nih.gov/18728058/)', doc);
    const a = elements.find((e) => e.tagName === 'a')!;
    expect(a.attributes).toEqual({ href: 'https://pubmed.ncbi.nlm.nih.gov/18728058/', rel: 'noopener noreferrer', target: '_blank' });
  });

  test('deeply nested or huge input is bounded, not a crash', () => {
    expect(() => toHtml('*'.repeat(10_000) + 'x' + '*'.repeat(10_000))).not.toThrow();
    expect(() => toHtml('['.repeat(5_000) + 'x' + ']'.repeat(5_000))).not.toThrow();
    expect(() => toHtml('**a '.repeat(2_000))).not.toThrow();
  });

  test('the browser module uses no HTML-parsing sink and no eval', () => {
    for (const file of ['markdown.js', 'app.js', 'ehr.js']) {
      const source = readFileSync(path.join(PROJECT_ROOT, 'src/web/playground', file), 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
      expect(source, file).not.toMatch(/\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\s*\(|new Function\s*\(/);
    }
  });
});

describe('real card details render as intended', async () => {
  const config = testConfig();
  const knowledge = loadKnowledge(config.cdsServicesDir);
  const engine = createEngine(knowledge, { config, logger: createLogger('silent'), now: () => new Date('2026-11-21T09:00:00Z') });
  const service = knowledge.services.get('ldn-order-select')!;
  const body = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'fixtures/requests/order-select-ldn-oxycodone.json'), 'utf8')) as unknown;
  const result = await engine.evaluate(service, parseHookRequest(body, service.hooks, service.id));

  test('the fixture request yields cards with details', () => {
    expect(result.response.cards.length).toBeGreaterThanOrEqual(2);
  });

  test.each(result.response.cards.map((c) => [c.summary, c.detail ?? ''] as const))('%s', (_summary, detail) => {
    const html = toHtml(detail);
    expect(html).toMatch(/<p>|<ul>/);
    expect(html).toContain('<strong>');
    expect(html).not.toMatch(/\*\*/); // every bold marker was understood
    expect(html).toContain('<li>');
  });
});
