/**
 * A small, safe Markdown renderer for CDS Hooks card details (the subset cards use): paragraphs, headings,
 * bullet and numbered lists, fenced code, **bold**, *italic*, `code`, and [links](https://…).
 *
 * Safety by construction:
 *  - HTML in the source is never interpreted. The parser treats `<`, `>` and `&` as ordinary characters; the
 *    DOM builder only ever creates text nodes (textContent) and a fixed set of elements; `toHtml` escapes every
 *    text run and attribute. So `<script>`, `<img onerror>` and the like stay visible text.
 *  - A link becomes a link only when its URL is absolute http(s) (`safeHref`); `javascript:`, `data:`,
 *    protocol-relative and relative URLs render as plain text. Links open in a new tab with
 *    rel="noopener noreferrer".
 *  - No innerHTML, no eval, no attributes other than href/rel/target (links) and start (ordered lists).
 *
 * `parseMarkdown` is a pure function (tested in node); `renderMarkdown` builds DOM nodes from its tree.
 */

/** @typedef {{type:'text', text:string} | {type:'strong'|'em', children:Inline[]} | {type:'code', text:string} | {type:'link', href:string, children:Inline[]}} Inline */
/** @typedef {{type:'paragraph', children:Inline[]} | {type:'heading', level:number, children:Inline[]} | {type:'list', ordered:boolean, start:number, items:Inline[][]} | {type:'code', text:string}} Block */

const MAX_SOURCE = 50_000;
const MAX_DEPTH = 8;
const ESCAPABLE = '\\`*_{}[]()#+-.!<>|~"\'';

/** The URL when it is an absolute http(s) URL (normalised), otherwise null. */
export function safeHref(raw) {
  if (typeof raw !== 'string') return null;
  const value = raw.trim();
  // Control characters and whitespace inside a URL are how scheme filters get bypassed; refuse them outright.
  // eslint-disable-next-line no-control-regex
  if (value === '' || /[\u0000-\u0020\u007f-\u009f]/.test(value)) return null;
  if (!/^https?:\/\//i.test(value)) return null;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}

/** Source text → block tree. Never throws; anything it does not understand is text. */
export function parseMarkdown(source) {
  const text = String(source ?? '').slice(0, MAX_SOURCE).replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  /** @type {Block[]} */
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      i++;
      continue;
    }
    const fence = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence[1])) body.push(lines[i++]);
      i++; // closing fence (or end of text)
      blocks.push({ type: 'code', text: body.join('\n') });
      continue;
    }
    const heading = /^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$/.exec(line);
    if (heading) {
      blocks.push({ type: 'heading', level: heading[1].length, children: parseInline(heading[2]) });
      i++;
      continue;
    }
    if (listMarker(line)) {
      const first = listMarker(line);
      const items = [];
      while (i < lines.length) {
        const marker = listMarker(lines[i]);
        if (marker && marker.ordered === first.ordered) {
          const itemLines = [marker.rest];
          i++;
          // Continuation lines: indented, or lazy (not blank, not a new block).
          while (i < lines.length && lines[i].trim() !== '' && !listMarker(lines[i]) && !startsBlock(lines[i])) itemLines.push(lines[i++].trim());
          items.push(parseInline(itemLines.join('\n')));
          continue;
        }
        // A blank line followed by another item of the same list keeps the list going.
        if (lines[i].trim() === '' && i + 1 < lines.length && listMarker(lines[i + 1])?.ordered === first.ordered) {
          i++;
          continue;
        }
        break;
      }
      blocks.push({ type: 'list', ordered: first.ordered, start: first.start, items });
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() !== '' && !startsBlock(lines[i]) && !listMarker(lines[i])) para.push(lines[i++].trim());
    if (para.length === 0) para.push(lines[i++].trim());
    blocks.push({ type: 'paragraph', children: parseInline(para.join('\n')) });
  }
  return blocks;
}

function listMarker(line) {
  const m = /^ {0,3}(?:([-*+])|(\d{1,9})[.)])[ \t]+(.*)$/.exec(line);
  if (!m) return null;
  return { ordered: m[2] !== undefined, start: m[2] !== undefined ? Number(m[2]) : 1, rest: m[3] };
}

function startsBlock(line) {
  return /^ {0,3}(#{1,6}[ \t]|`{3,}|~{3,})/.test(line);
}

/** Inline text → inline nodes. Emphasis delimiters must close on the same block, or they are literal. */
export function parseInline(text, depth = 0) {
  /** @type {Inline[]} */
  const out = [];
  let buffer = '';
  const flush = () => {
    if (buffer) out.push({ type: 'text', text: buffer });
    buffer = '';
  };
  const s = String(text);
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length && ESCAPABLE.includes(s[i + 1])) {
      buffer += s[i + 1];
      i += 2;
      continue;
    }
    if (c === '\n') {
      buffer += ' ';
      i++;
      continue;
    }
    if (c === '`') {
      let run = 1;
      while (s[i + run] === '`') run++;
      const fence = '`'.repeat(run);
      const close = s.indexOf(fence, i + run);
      if (close !== -1) {
        flush();
        out.push({ type: 'code', text: s.slice(i + run, close).replace(/\n/g, ' ') });
        i = close + run;
        continue;
      }
      buffer += fence;
      i += run;
      continue;
    }
    if (depth < MAX_DEPTH && (c === '*' || c === '_')) {
      const double = s[i + 1] === c;
      const marker = double ? c + c : c;
      const opensHere = s[i + marker.length] !== undefined && !/\s/.test(s[i + marker.length]) && !(c === '_' && /[\p{L}\p{N}]/u.test(s[i - 1] ?? ''));
      if (opensHere) {
        const close = findClosing(s, marker, i + marker.length);
        if (close !== -1) {
          flush();
          out.push({ type: double ? 'strong' : 'em', children: parseInline(s.slice(i + marker.length, close), depth + 1) });
          i = close + marker.length;
          continue;
        }
      }
      buffer += marker;
      i += marker.length;
      continue;
    }
    if (depth < MAX_DEPTH && c === '[') {
      const link = parseLink(s, i);
      if (link) {
        flush();
        const children = parseInline(link.label, depth + 1);
        const href = safeHref(link.url);
        if (href) out.push({ type: 'link', href, children });
        else out.push(...children); // unsafe or relative URL: the label only, as text
        i = link.end;
        continue;
      }
    }
    buffer += c;
    i++;
  }
  flush();
  return out;
}

/** Index of the closing `marker` (not preceded by whitespace, not escaped) at or after `from`; -1 if none. */
function findClosing(s, marker, from) {
  let j = from;
  while (j < s.length) {
    if (s[j] === '\\') {
      j += 2;
      continue;
    }
    if (s[j] === '`') {
      const end = s.indexOf('`', j + 1);
      if (end === -1) return -1;
      j = end + 1;
      continue;
    }
    if (s.startsWith(marker, j) && j > from && !/\s/.test(s[j - 1])) {
      const after = s[j + marker.length];
      // `**` must not be taken as the closing of `*`, and `_` must not close inside a word.
      if (marker.length === 1 && after === marker) {
        j += 2;
        continue;
      }
      if (marker[0] === '_' && after !== undefined && /[\p{L}\p{N}]/u.test(after)) {
        j++;
        continue;
      }
      return j;
    }
    j++;
  }
  return -1;
}

/** `[label](url)` at `start`: balanced brackets in the label; the URL without spaces, one level of balanced parentheses. */
function parseLink(s, start) {
  let depth = 0;
  let j = start;
  for (; j < s.length; j++) {
    if (s[j] === '\\') {
      j++;
      continue;
    }
    if (s[j] === '[') depth++;
    else if (s[j] === ']') {
      depth--;
      if (depth === 0) break;
    }
  }
  if (depth !== 0 || s[j + 1] !== '(') return null;
  const m = /^\(\s*<?((?:[^\s<>()]|\([^\s<>()]*\))*)>?(?:\s+"[^"]*")?\s*\)/.exec(s.slice(j + 1));
  if (!m) return null;
  return { label: s.slice(start + 1, j), url: m[1], end: j + 1 + m[0].length };
}

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Escape text for HTML (text and attribute values). */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

/** Markdown → an HTML string with every text run escaped (for tests, previews and debugging; the page builds DOM). */
export function toHtml(source, options = {}) {
  const offset = options.headingOffset ?? 0;
  const inline = (nodes) =>
    nodes
      .map((n) => {
        switch (n.type) {
          case 'text':
            return escapeHtml(n.text);
          case 'code':
            return `<code>${escapeHtml(n.text)}</code>`;
          case 'strong':
            return `<strong>${inline(n.children)}</strong>`;
          case 'em':
            return `<em>${inline(n.children)}</em>`;
          case 'link':
            return `<a href="${escapeHtml(n.href)}" rel="noopener noreferrer" target="_blank">${inline(n.children)}</a>`;
          default:
            return '';
        }
      })
      .join('');
  return parseMarkdown(source)
    .map((b) => {
      switch (b.type) {
        case 'heading': {
          const h = `h${Math.min(6, b.level + offset)}`;
          return `<${h}>${inline(b.children)}</${h}>`;
        }
        case 'list': {
          const tag = b.ordered ? 'ol' : 'ul';
          const start = b.ordered && b.start !== 1 ? ` start="${b.start}"` : '';
          return `<${tag}${start}>${b.items.map((it) => `<li>${inline(it)}</li>`).join('')}</${tag}>`;
        }
        case 'code':
          return `<pre><code>${escapeHtml(b.text)}</code></pre>`;
        default:
          return `<p>${inline(b.children)}</p>`;
      }
    })
    .join('\n');
}

/**
 * Markdown → a DocumentFragment built with createElement / createTextNode only.
 * `doc` defaults to the page's document; `options.headingOffset` shifts heading levels (a card's detail sits
 * under the card's own heading).
 */
export function renderMarkdown(source, doc = globalThis.document, options = {}) {
  const offset = options.headingOffset ?? 0;
  const el = (tag, children) => {
    const node = doc.createElement(tag);
    for (const child of children) node.appendChild(child);
    return node;
  };
  const inline = (nodes) =>
    nodes.map((n) => {
      switch (n.type) {
        case 'text':
          return doc.createTextNode(n.text);
        case 'code':
          return el('code', [doc.createTextNode(n.text)]);
        case 'strong':
          return el('strong', inline(n.children));
        case 'em':
          return el('em', inline(n.children));
        case 'link': {
          const a = el('a', inline(n.children));
          a.setAttribute('href', n.href);
          a.setAttribute('rel', 'noopener noreferrer');
          a.setAttribute('target', '_blank');
          return a;
        }
        default:
          return doc.createTextNode('');
      }
    });
  const fragment = doc.createDocumentFragment();
  for (const b of parseMarkdown(source)) {
    let node;
    if (b.type === 'heading') node = el(`h${Math.min(6, b.level + offset)}`, inline(b.children));
    else if (b.type === 'list') {
      node = el(
        b.ordered ? 'ol' : 'ul',
        b.items.map((it) => el('li', inline(it))),
      );
      if (b.ordered && b.start !== 1) node.setAttribute('start', String(b.start));
    } else if (b.type === 'code') node = el('pre', [el('code', [doc.createTextNode(b.text)])]);
    else node = el('p', inline(b.children));
    fragment.appendChild(node);
  }
  return fragment;
}
