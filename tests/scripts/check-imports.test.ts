/**
 * The import check (scripts/check-imports.mjs, run by `npm test`): it must catch a folder cycle (type-only imports
 * too), a file cycle and an import of src/http/ from outside http, on fixture trees, and pass on this project.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';

const SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'check-imports.mjs');
const trees: string[] = [];

/** A project root whose src/ holds these files (path under src/ → content). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'ldn-imports-'));
  trees.push(root);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, 'src', file)), { recursive: true });
    writeFileSync(path.join(root, 'src', file), content);
  }
  return root;
}

function check(root: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

afterEach(() => {
  for (const root of trees.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('scripts/check-imports.mjs', () => {
  it('passes a one-way tree', () => {
    const root = tree({
      'model/a.ts': 'export const a = 1;\n',
      'rules/b.ts': "import { a } from '../model/a.js';\nexport const b = a;\n",
      'http/c.ts': "import { b } from '../rules/b.js';\nexport const c = b;\n",
      'app.ts': "import { c } from './http/c.js';\nexport default c;\n",
    });
    expect(check(root)).toMatchObject({ status: 0 });
  });

  it('fails on a folder cycle made by a type-only import', () => {
    const root = tree({
      'model/a.ts': "import type { B } from '../rules/b.js';\nexport type A = B | 1;\n",
      'rules/b.ts': "import type { A } from '../model/a.js';\nexport type B = A | 2;\nexport const b = 2;\n",
    });
    const { status, output } = check(root);
    expect(status).toBe(1);
    expect(output).toContain('folder cycle: model, rules');
    expect(output).toContain('model/a.ts -> rules/b.ts');
  });

  it('fails on a cycle through a top-level file and a re-export', () => {
    const root = tree({
      'config.ts': "export * from './storage/options.js';\n",
      'storage/options.ts': "import type {} from '../config.js';\nexport const o = 1;\n",
    });
    const { status, output } = check(root);
    expect(status).toBe(1);
    expect(output).toContain('folder cycle: config.ts, storage');
  });

  it('fails on a cycle between two files of one folder', () => {
    const root = tree({
      'auth/keys.ts': "import type { Client } from './clients.js';\nexport const k = (c: Client) => c;\n",
      'auth/clients.ts': "import { k } from './keys.js';\nexport interface Client { k: typeof k }\n",
    });
    const { status, output } = check(root);
    expect(status).toBe(1);
    expect(output).toContain('file cycle: auth/clients.ts, auth/keys.ts');
  });

  it('fails on an import of src/http/ from outside http, app.ts and server.ts', () => {
    const root = tree({
      'http/outcomes.ts': 'export const outcome = 1;\n',
      'storage/options.ts': "import { outcome } from '../http/outcomes.js';\nexport const o = outcome;\n",
      'server.ts': "import { outcome } from './http/outcomes.js';\nexport const s = outcome;\n",
    });
    const { status, output } = check(root);
    expect(status).toBe(1);
    expect(output).toContain('src/storage/options.ts imports src/http/outcomes.ts');
    expect(output).not.toContain('src/server.ts imports');
  });

  it('passes this project', () => {
    const { status, output } = check(PROJECT_ROOT);
    expect(output).toContain('no folder or file cycle');
    expect(status).toBe(0);
  });
});
