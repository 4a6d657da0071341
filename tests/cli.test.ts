import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { main } from '../src/cli.js';
import { createApp } from '../src/app.js';
import { PROJECT_ROOT, testConfig } from '../src/config/index.js';

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

describe('help and input', () => {
  test('--help prints the usage to stdout, exit 0, and the usage lists --help and what FILE may be', async () => {
    for (const argv of [['--help'], ['-h'], ['evaluate', '--help'], ['call', '--help']]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.err).toBe('');
      expect(r.out).toMatch(/^Usage: ldn-cds evaluate FILE/);
    }
    const r = await run('--help');
    expect(r.out).toContain('--help');
    expect(r.out).toMatch(/a CDS Hooks request \(JSON/);
    expect(r.out).toMatch(/a scenario file \(YAML/);
    expect((await run('report', '--help')).out).toMatch(/^Usage: ldn-cds report/);
    const unknown = await run('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/Unknown command "frobnicate"/);
  });

  test('evaluate of a scenario file runs every case and checks it against its expect', async () => {
    const r = await run('evaluate', path.join(PROJECT_ROOT, 'fixtures/scenarios/playground.yaml'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('── LDN + oxycodone');
    expect(r.out).toMatch(/\[CRITICAL\] Contraindicated: LDN/);
    expect(r.out).toMatch(/(\d+) of \1 cases as expected \(evaluated at 2026-11-21T09:00:00\.000Z\)/);
  });

  test('a scenario case whose cards differ from its expect fails with exit 1 and says what differed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ldn-cli-'));
    const file = path.join(dir, 'wrong.yaml');
    writeFileSync(file, ['description: a wrong expectation', 'now: 2026-11-21T09:00:00Z', 'cases:', '  - name: LDN alone', '    orders: [{ text: Naltrexone 1.5 mg capsule (compounded), dose: 1.5 mg, when: HS }]', '    expect: [{ rule: ldn-with-opioid, indicator: critical }]', ''].join('\n'));
    const r = await run('evaluate', file);
    expect(r.code).toBe(1);
    expect(r.out).toContain('✗ expected ldn-with-opioid:critical; got no cards');
    expect(r.out).toContain('0 of 1 cases as expected');
  });

  test('a FHIR Bundle, or JSON without "hook", is named as such and what each command takes is said', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ldn-cli-'));
    const bundle = path.join(dir, 'patient.json');
    writeFileSync(bundle, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [] }));
    const r = await run('evaluate', bundle);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is a FHIR Bundle \(collection\), not a CDS Hooks request/);
    expect(r.err).toMatch(/put its resources in a request's prefetch/);
    expect(r.err).not.toMatch(/undefined/);
    const other = path.join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ hello: 'world' }));
    expect((await run('evaluate', other)).err).toMatch(/not a CDS Hooks request \(no "hook" member\)/);
    const yaml = path.join(dir, 'other.yaml');
    writeFileSync(yaml, 'just: text\n');
    expect((await run('evaluate', yaml)).err).toMatch(/not a CDS Hooks request \(no "hook" member\) and not a scenario file/);
    const badScenario = path.join(dir, 'bad.yaml');
    writeFileSync(badScenario, 'description: x\nnow: 2026-11-21T09:00:00Z\ncases: []\n');
    expect((await run('evaluate', badScenario)).err).toMatch(/is not a valid scenario file: cases: a scenario file must hold at least one case/);
  });
});

describe('ldn-cds call', () => {
  test('sends the request to a running service (AUTH_MODE=required) with a playground token, and prints its cards', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const handle = await createApp(testConfig({ AUTH_MODE: 'required', PUBLIC_BASE_URL: base }));
    server.on('request', handle.app);
    try {
      const r = await run('call', REQUEST, '--url', base);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^ldn-order-select \\(order-select\\) at ${base.replace(/\./g, '\\.')}: 4 cards`));
      expect(r.out).toMatch(/\[CRITICAL\] Contraindicated: LDN/);
      expect(r.out).not.toMatch(/eyJ/); // no token printed
      const json = await run('call', REQUEST, '--url', base, '--json');
      expect(JSON.parse(json.out).cards).toHaveLength(4);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await handle.close();
    }
  });

  test('no service running: says so and how to start one', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const r = await run('call', REQUEST, '--url', `http://127.0.0.1:${port}`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Cannot reach http:\/\/127\.0\.0\.1:\d+ .*is the service running\? Start it with npm start/);
  });
});

describe('README quick start', () => {
  /** The command of the README's "First call": the one line of the first sh block after it. */
  function firstCallCommand(): string {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const from = readme.indexOf('First call');
    expect(from, 'README has a "First call" paragraph').toBeGreaterThan(0);
    const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(from));
    const lines = (block?.[1] ?? '').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    expect(lines, 'one command').toHaveLength(1);
    return lines[0]!.trim();
  }

  /** `npm start` without its build step: the same server, default settings, on a free port of this machine. */
  async function startService(): Promise<{ port: number; stop: () => Promise<void> }> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: PROJECT_ROOT,
      // Only what a fresh clone's `npm start` differs in: the port, and a throw-away database instead of data/.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), SQLITE_PATH: ':memory:' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (c: Buffer) => {
        output += c.toString();
        if (/ldn-cds listening/.test(output)) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`service exited (${code}):\n${output}`)));
    });
    return { port, stop: () => new Promise((resolve) => (child.once('exit', () => resolve()), child.kill('SIGTERM'))) };
  }

  test('the first-call command, run verbatim against a default start, returns the fixture\'s cards', { timeout: 60_000 }, async () => {
    const command = firstCallCommand();
    expect(command).toMatch(/^npx ldn-cds call /);
    const service = await startService();
    try {
      const result = spawnSync('sh', ['-c', command], { cwd: PROJECT_ROOT, env: { ...process.env, PORT: String(service.port), PUBLIC_BASE_URL: '' }, encoding: 'utf8', timeout: 45_000 });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^ldn-order-select \(order-select\) at http:\/\/localhost:\d+: 4 cards/);
      expect(result.stdout).toMatch(/\[CRITICAL\] Contraindicated: LDN/);
    } finally {
      await service.stop();
    }
  });
});
