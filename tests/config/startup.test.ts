/**
 * Start-up errors as an operator sees them: the real `src/server.ts` process, a bad setting, a one-line message
 * on stderr naming the variable or file, no stack trace, and a non-zero exit.
 */
import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/index.js';

function start(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', SQLITE_PATH: ':memory:', PLAYGROUND: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // A process that starts listening instead of failing is stopped, and the test then fails on its exit code.
  child.stdout.on('data', () => {
    if (/ldn-cds listening/.test(stdout)) child.kill('SIGTERM');
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr, stdout })));
}

function expectOneLine(result: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('start-up errors', { timeout: 30_000 }, () => {
  test('BODY_LIMIT=lots names the variable', async () => {
    expectOneLine(await start({ BODY_LIMIT: 'lots' }), /^Invalid configuration: BODY_LIMIT: must be a size/);
  });

  test('a short PATIENT_ID_HASH_KEY in production names the variable', async () => {
    expectOneLine(await start({ NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://cds.example.org', PATIENT_ID_HASH_KEY: 'x' }), /^Invalid configuration: PATIENT_ID_HASH_KEY: must be at least 32 characters/);
  });

  test('a YAML syntax error names the configured folder, the file and the line, with no dangling code frame', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'ldn-pack-')), 'my-pack');
    cpSync(path.join(PROJECT_ROOT, 'cds-services'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'knowledge.yaml'), 'name: broken\nversion: [1.0.0\nother: x\n');
    const result = await start({ CDS_SERVICES_DIR: dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`Invalid knowledge in ${dir}:`);
    expect(result.stderr).not.toContain('in cds-services');
    const problem = result.stderr.split('\n').find((l) => l.includes('knowledge.yaml'));
    expect(problem).toMatch(/knowledge\.yaml: YAML syntax error: .+ at line \d+, column \d+ \(line \d+: ".+"\)$/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
