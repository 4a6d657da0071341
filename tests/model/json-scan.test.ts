/**
 * The structural JSON scan (src/model/json-scan.ts), checked against JSON.parse: member ranges must slice out
 * exactly the values JSON.parse sees, depth must agree with a walk of the parsed value, and anything the scan
 * cannot map exactly (arrays, escaped or repeated keys, malformed text) must be refused, never guessed.
 */
import { describe, expect, test } from 'vitest';
import { scanJson } from '../../src/model/json-scan.js';

/** Reference depth check on a parsed value (a top-level object or array is depth 1). */
function exceedsDepth(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (maxDepth <= 0) return true;
  return Object.values(value).some((child) => exceedsDepth(child, maxDepth - 1));
}

function nestingOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(nestingOf));
}

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TRICKY = ['"', '\\', '{', '}', '[', ']', ',', ':', '\\"', 'é', '💊', '\n', '\u0000', ' ', 'a', 'prefetch', '"}', '\\\\"'];

function randomString(r: () => number): string {
  const n = Math.floor(r() * 8);
  let s = '';
  for (let i = 0; i < n; i++) s += TRICKY[Math.floor(r() * TRICKY.length)];
  return s;
}

function randomValue(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth > 5 || pick < 0.35) {
    const p = r();
    if (p < 0.3) return randomString(r);
    if (p < 0.5) return Math.round((r() - 0.5) * 1e6) / 100;
    if (p < 0.6) return r() < 0.5;
    if (p < 0.7) return null;
    return -1.5e-7;
  }
  if (pick < 0.6) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  return randomObject(r, depth + 1);
}

function randomObject(r: () => number, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) out[`k${i}${randomString(r)}`] = randomValue(r, depth);
  return out;
}

/** Pretty-print with random whitespace between tokens (outside strings). */
function spaced(text: string, r: () => number): string {
  const ws = [' ', '\n', '\t', '\r\n', '  '];
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    out += c;
    if (inString) {
      if (c === '\\') out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    if (!inString && '{}[],:'.includes(c) && r() < 0.4) out += ws[Math.floor(r() * ws.length)];
  }
  return (r() < 0.5 ? ' \n' : '') + out + (r() < 0.5 ? '\n' : '');
}

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('scanJson', () => {
  test('member ranges slice out exactly the values JSON.parse sees (500 random documents)', () => {
    const r = rng(20261121);
    for (let n = 0; n < 500; n++) {
      // Plain keys only (the scan refuses escaped ones), so build the top level from safe names.
      const top: Record<string, unknown> = {};
      const count = Math.floor(r() * 6);
      for (let i = 0; i < count; i++) top[`member${i}-${['é', 'x', ' ', '💊'][i % 4]}`] = randomValue(r, 1);
      const text = spaced(JSON.stringify(top), r);
      const buf = bytes(text);
      const scan = scanJson(buf, 1000);
      expect(scan.tooDeep).toBe(false);
      expect(scan.members, text).toBeDefined();
      expect(scan.members!.map((m) => m.key)).toEqual(Object.keys(top));
      for (const m of scan.members!) expect(JSON.parse(buf.subarray(m.start, m.end).toString('utf8'))).toEqual(top[m.key]);
    }
  });

  test('depth agrees with a walk of the parsed value, at every limit (300 random documents)', () => {
    const r = rng(7);
    for (let n = 0; n < 300; n++) {
      const value = r() < 0.8 ? randomObject(r, 0) : randomValue(r, 0);
      const text = JSON.stringify(value);
      const depth = nestingOf(value);
      for (const limit of [0, 1, depth - 1, depth, depth + 1]) {
        if (limit < 0) continue;
        expect(scanJson(bytes(text), limit).tooDeep, `${text} limit ${limit}`).toBe(exceedsDepth(value, limit));
      }
    }
  });

  test('a hostile nesting is refused at the limit without recursion', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(scanJson(bytes(deep), 64).tooDeep).toBe(true);
    expect(scanJson(bytes(`{"a":${deep}}`), 64)).toEqual({ tooDeep: true });
  });

  test('strings full of structure and escapes do not confuse it', () => {
    const doc = { 'a': '{"b": [1, 2]}', 'c': 'quote \\" and backslash \\\\', 'd': ['"', '\\', '}'], 'e': { 'f': '\\' } };
    const buf = bytes(JSON.stringify(doc));
    const scan = scanJson(buf, 3);
    expect(scan.members!.map((m) => [m.key, JSON.parse(buf.subarray(m.start, m.end).toString())])).toEqual(Object.entries(doc));
  });

  test('an empty object maps to no members; an empty body maps to nothing', () => {
    expect(scanJson(bytes('{}'), 10)).toEqual({ tooDeep: false, members: [] });
    expect(scanJson(bytes(' { \n } '), 10)).toEqual({ tooDeep: false, members: [] });
    expect(scanJson(bytes(''), 10)).toEqual({ tooDeep: false });
  });

  test.each([
    ['a top-level array', '[{"a":1}]'],
    ['a top-level string', '"prefetch"'],
    ['an escaped key (could spell another name)', '{"pre\\u0066etch":{"a":1}}'],
    ['a repeated key (JSON.parse keeps the last)', '{"prefetch":{"a":1},"prefetch":{"b":2}}'],
    ['an unterminated string', '{"a":"b}'],
    ['a trailing comma', '{"a":1,}'],
    ['a missing colon', '{"a" 1}'],
    ['a missing value', '{"a":}'],
    ['two values for a key', '{"a":1 2}'],
    ['a value after a string', '{"a":"x"1}'],
    ['a value after an object', '{"a":{} 1}'],
    ['two top-level values', '{"a":1}{"b":2}'],
    ['trailing text', '{"a":1} x'],
    ['an unclosed object', '{"a":{"b":1}'],
    ['one closing too many', '{"a":1}}'],
    ['a key that is not a string', '{a:1}'],
  ])('maps no members for %s', (_name, text) => {
    expect(scanJson(bytes(text), 10).members).toBeUndefined();
  });
});
