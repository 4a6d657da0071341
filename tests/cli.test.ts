import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { main } from '../src/cli.js';
import { PROJECT_ROOT } from '../src/config.js';

const REQUEST = path.join(PROJECT_ROOT, 'fixtures/requests/order-select-ldn-oxycodone.json');

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('ldn-cds evaluate', () => {
  test('prints the cards of a hook request, most urgent first, with rule ids', async () => {
    const r = await run('evaluate', REQUEST, '--now', '2026-11-21');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ldn-order-select \(order-select\): 4 cards/);
    expect(r.out.indexOf('[CRITICAL]')).toBeLessThan(r.out.indexOf('[WARNING]'));
    expect(r.out).toMatch(/\[CRITICAL\] Contraindicated: LDN 4\.5 mg\/day with opioid oxycodone/);
    expect(r.out).toMatch(/rule: ldn-with-opioid v\d+\.\d+\.\d+/);
  });

  test('--json prints the CDS Hooks response', async () => {
    const r = await run('evaluate', REQUEST, '--json');
    expect(JSON.parse(r.out).cards.length).toBe(4);
  });

  test('explains a request the service would reject, with the HTTP status', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ldn-cli-'));
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ hook: 'order-select', context: {} }));
    const r = await run('evaluate', bad, '--service', 'ldn-order-check');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/HTTP 400/);
    expect(r.err).toMatch(/hookInstance/);
  });

  test('answers usage errors with exit code 2', async () => {
    expect((await run()).code).toBe(2);
    expect((await run('evaluate', '/no/such/file.json')).err).toMatch(/Cannot read/);
    expect((await run('evaluate', REQUEST, '--now', 'yesterday-ish')).code).toBe(2);
    expect((await run('evaluate', REQUEST, '--service', 'nope')).err).toMatch(/No service "nope"/);
  });
});
