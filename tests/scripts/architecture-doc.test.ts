/**
 * docs/architecture.md's table "who may import whom" agrees with the code: every folder of src/ has a row, and
 * every import between folders is one its row allows (the graph from scripts/check-imports.mjs --graph).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';

const graph = JSON.parse(
  spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'check-imports.mjs'), PROJECT_ROOT, '--graph'], { encoding: 'utf8' }).stdout,
) as Record<string, string[]>;

/** Folder names as the check names them: `src/model/` → "model", `src/app.ts` → "app.ts". */
const names = (cell: string): string[] => [...cell.matchAll(/`src\/([^`/]+)\/?`/g)].map((m) => m[1]!);

function rows(): { folders: string[]; allowed: (from: string) => boolean }[] {
  const doc = readFileSync(path.join(PROJECT_ROOT, 'docs', 'architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Folders, and who may import whom'));
  const table = section.split('\n').filter((l) => l.startsWith('| `src/'));
  const above: string[] = [];
  return table.map((line) => {
    const cells = line.split(' | ');
    const folders = names(cells[0]!);
    const may = cells[cells.length - 1]!.replace(/\s*\|\s*$/, '').trim();
    const before = [...above];
    above.push(...folders);
    if (may === 'anything') return { folders, allowed: () => true };
    if (may === 'anything but `src/http/`') return { folders, allowed: (to: string) => to !== 'http' };
    if (may === 'every folder above') return { folders, allowed: (to: string) => before.includes(to) };
    if (may === 'nothing from `src/`') return { folders, allowed: () => false };
    const list = may.split(',').map((s) => s.trim());
    return { folders, allowed: (to: string) => list.includes(to) };
  });
}

test('every folder of src/ has a row in the table', () => {
  const documented = new Set(rows().flatMap((r) => r.folders));
  expect(Object.keys(graph).filter((f) => !documented.has(f))).toEqual([]);
});

test('every import between folders is one the table allows', () => {
  const table = rows();
  const violations: string[] = [];
  for (const [from, targets] of Object.entries(graph)) {
    const row = table.find((r) => r.folders.includes(from));
    if (!row) continue;
    for (const to of targets) if (!row.allowed(to)) violations.push(`${from} -> ${to}`);
  }
  expect(violations).toEqual([]);
});
