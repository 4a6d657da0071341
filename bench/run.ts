/**
 * npm run bench — measures the service against the Express "floor" on the same machine, in one run.
 * It runs compiled (tsconfig.bench.json → dist/bench), as production does.
 *
 * 1. HTTP: our service and a floor server (express 5 + JSON parsing answering {"cards":[]}) each in its own process,
 *    driven in turn by autocannon with the realistic order-select request (a unique hookInstance per call),
 *    alternating ROUNDS times; medians of requests/s, p50/p90/p99 latency and peak RSS; ratio ours/floor; then p99 of
 *    ours at 50% of the floor's rate, and ours when every call brings a changed draft order (no memo hit).
 * 2. In-process: engine evaluation time for the realistic request, and for 10/100/1,000/5,000 MedicationStatements:
 *    the chart resent (the memo answers), the draft order changed (rules run again) and a chart never seen before.
 * 3. Fetch path: nothing prefetched; a local mock FHIR server answers each search after 20 ms.
 * 1b. Feedback under load: feedback posts every 50 ms while hook calls arrive at 1,000/s; p99 (target < 100 ms).
 * 4. Soak: 100,000 requests; RSS after each 25,000 (skip with --quick).
 * Output: a table, and JSON in bench/results/<timestamp>.json (or on stdout with --json).
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT, loadConfig } from '../src/config/index.js';
import { createEngine } from '../src/engine/index.js';
import { parseHookRequest } from '../src/hooks/request.js';
import { loadKnowledge } from '../src/engine/knowledge.js';
import { createLogger } from '../src/observability/logger.js';
import { orderSelectRequest, type RequestOptions } from './realistic.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const JSON_OUT = args.has('--json');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? (QUICK ? 5 : 10));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const log = (s: string) => (JSON_OUT ? process.stderr.write(`${s}\n`) : console.log(s));

interface HttpRun { rps: number; p50: number; p90: number; p99: number; errors: number; non2xx: number }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** Each server of ours gets a fresh SQLite file, so runs never inherit an earlier run's audit log. */
const DATA_DIR = mkdtempSync(path.join(os.tmpdir(), 'ldn-cds-bench-'));
let servers = 0;

function startServer(kind: 'ours' | 'floor', env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> {
  const ownEnv = kind === 'ours' ? { SQLITE_PATH: path.join(DATA_DIR, `ours-${++servers}.sqlite`), ...env } : env;
  // The compiled server (npm run bench builds first): what production runs, without a TypeScript loader's memory.
  const server = fileURLToPath(new URL('./server.js', import.meta.url));
  const child = spawn(process.execPath, [server, kind, JSON.stringify(ownEnv)], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Peak resident set size (VmHWM) and current RSS of a process, MB. */
function memory(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { peakMb: round(kb('VmHWM') / 1024, 1), rssMb: round(kb('VmRSS') / 1024, 1) };
}

/**
 * Drive a server with `body`. Each "[<id>]" in it becomes a number unique to the request, so the benchmark's
 * hookInstance is unique per call, as the spec requires of EHRs. (autocannon's own idReplacement keeps the
 * template's Content-Length, which breaks a body whose length changes; setupRequest rebuilds the request.)
 */
async function drive(port: number, body: string, opts: { duration?: number; amount?: number; overallRate?: number; connections?: number } = {}): Promise<HttpRun> {
  const parts = body.split('[<id>]');
  let n = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    requests: [
      {
        method: 'POST',
        path: '/cds-services/ldn-order-select',
        headers: { 'content-type': 'application/json' },
        ...(parts.length > 1 ? { setupRequest: (req: autocannon.Request) => ({ ...req, body: parts.join(String(++n)) }) } : { body }),
      },
    ],
    connections: opts.connections ?? CONNECTIONS,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration ?? DURATION_S }),
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
  });
  return { rps: result.requests.average, p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
}

async function httpComparison(body: string) {
  const runs: Record<'ours' | 'floor', HttpRun[]> = { ours: [], floor: [] };
  const peaks: Record<'ours' | 'floor', number[]> = { ours: [], floor: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of ['floor', 'ours'] as const) {
      const { child, port } = await startServer(kind);
      await drive(port, body, { duration: 2 }); // warm-up
      const run = await drive(port, body);
      peaks[kind].push(memory(child.pid!).peakMb);
      runs[kind].push(run);
      log(`  round ${r + 1} ${kind.padEnd(5)} ${round(run.rps, 0)} req/s  p50 ${run.p50} ms  p99 ${run.p99} ms  non-2xx ${run.non2xx}  errors ${run.errors}`);
      await stop(child);
    }
  }
  const summary = (kind: 'ours' | 'floor') => ({
    rps: round(median(runs[kind].map((x) => x.rps)), 0),
    p50Ms: median(runs[kind].map((x) => x.p50)),
    p90Ms: median(runs[kind].map((x) => x.p90)),
    p99Ms: median(runs[kind].map((x) => x.p99)),
    peakRssMb: median(peaks[kind]),
    non2xx: runs[kind].reduce((s, x) => s + x.non2xx, 0),
  });
  const ours = summary('ours');
  const floor = summary('floor');
  return { ours, floor, ratio: round(ours.rps / floor.rps, 3), rounds: runs };
}

/** Ours when every call brings a draft order never seen before (a keystroke that changed it): no memo hit. */
async function changedDraftEveryCall() {
  const { child, port } = await startServer('ours');
  const body = JSON.stringify(orderSelectRequest({ hookInstance: 'bench-[<id>]', draftNote: 'keystroke [<id>]' }));
  await drive(port, body, { duration: 2 });
  const run = await drive(port, body);
  await stop(child);
  return { rps: round(run.rps, 0), p50Ms: run.p50, p90Ms: run.p90, p99Ms: run.p99, non2xx: run.non2xx };
}

async function p99AtHalfFloor(body: string, floorRps: number) {
  const { child, port } = await startServer('ours');
  await drive(port, body, { duration: 2 });
  const rate = Math.max(1, Math.round(floorRps * 0.5));
  const run = await drive(port, body, { overallRate: rate, connections: 20 });
  await stop(child);
  return { rate, achievedRps: round(run.rps, 0), p50Ms: run.p50, p99Ms: run.p99 };
}

async function inProcess() {
  const config = loadConfig({ NODE_ENV: 'development', AUTH_MODE: 'off', LOG_LEVEL: 'silent', CHART_MAX_RESOURCES: '20000' });
  const knowledge = loadKnowledge(config.cdsServicesDir);
  const engine = createEngine(knowledge, { config, logger: createLogger('silent') });
  const service = knowledge.services.get('ldn-order-select')!;
  let run = 0;
  /**
   * Three kinds of call, each on a freshly parsed body as from the wire:
   * resent: the same chart again (the memo answers); changedDraft: the same chart with a draft order never seen
   * before (facts of the prefetched resources are reused, rules run); newChart: every resource never seen before
   * (everything is extracted and evaluated). `firstCallMs` is the very first call of a process (JIT still cold).
   */
  const measure = async (statements: number, conditions: number, iterations: { resent: number; changedDraft: number; newChart: number }) => {
    const request = (options: RequestOptions = {}) =>
      parseHookRequest(JSON.parse(JSON.stringify(orderSelectRequest({ statements, conditions, ...options }))), service.hooks, service.id);
    const time = async (n: number, options: (i: number) => RequestOptions) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const req = request(options(i));
        const t = performance.now();
        await engine.evaluate(service, req);
        times.push(performance.now() - t);
      }
      return { medianMs: round(median(times), 3), p99Ms: round(percentile(times, 99), 3) };
    };
    const start = performance.now();
    const first = await engine.evaluate(service, request());
    const firstCallMs = round(performance.now() - start, 3);
    const resent = await time(iterations.resent, () => ({}));
    const changedDraft = await time(iterations.changedDraft, (i) => ({ draftNote: `keystroke ${++run} ${i}` }));
    const newChart = await time(iterations.newChart, (i) => ({ idSuffix: `-${++run}-${i}` }));
    return { statements, conditions, cards: first.response.cards.length, firstCallMs, resent, changedDraft, newChart };
  };
  const realistic = await measure(50, 20, { resent: 2000, changedDraft: 500, newChart: 200 });
  const scaling = [];
  for (const [n, resent, changedDraft, newChart] of [[10, 2000, 500, 200], [100, 1000, 300, 100], [1000, 200, 40, 20], [5000, 40, 10, 6]] as const) {
    scaling.push(await measure(n, 20, { resent, changedDraft, newChart }));
  }
  return { realistic, scaling };
}

function mockFhir(delayMs: number): Promise<http.Server> {
  const bundle = JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] });
  const server = http.createServer((req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(req.url?.startsWith('/fhir/Patient/') ? JSON.stringify({ resourceType: 'Patient', id: 'bench-patient' }) : bundle);
    }, delayMs);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function fetchPath() {
  const fhir = await mockFhir(20);
  const fhirUrl = `http://127.0.0.1:${(fhir.address() as AddressInfo).port}/fhir`;
  const { child, port } = await startServer('ours', { FHIR_SERVER_ALLOWLIST: fhirUrl, FHIR_UNAUTHENTICATED_FETCH: 'true' });
  const body = JSON.stringify(orderSelectRequest({ prefetch: false, fhirServer: fhirUrl }));
  await drive(port, body, { duration: 2, connections: 1 });
  const run = await drive(port, body, { duration: DURATION_S, connections: 1 });
  await stop(child);
  fhir.close();
  return { fhirRoundTripMs: 20, keysFetched: 4, p50Ms: run.p50, p99Ms: run.p99, overheadP50Ms: round(run.p50 - 20, 2), non2xx: run.non2xx };
}

/**
 * Feedback while hook calls arrive at 1,000/s (issue 12 item 11: a flush used to chase the audit queue until the
 * load stopped): one feedback post every 50 ms during the load, its latency measured. With BENCH_DATABASE_URL the
 * service writes to that PostgreSQL database (where the hang was seen), else to a fresh SQLite file.
 */
async function feedbackUnderLoad(body: string) {
  const env: Record<string, string> = process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {};
  const { child, port } = await startServer('ours', env);
  await drive(port, body, { duration: 2 });
  const latencies: number[] = [];
  let failures = 0;
  let loading = true;
  const poster = (async () => {
    while (loading) {
      const started = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/cds-services/ldn-order-check/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ feedback: [{ card: crypto.randomUUID(), outcome: 'overridden', overrideReason: { userComment: 'bench' }, outcomeTimestamp: new Date().toISOString() }] }),
      });
      await res.arrayBuffer();
      if (res.ok) latencies.push(performance.now() - started);
      else failures += 1;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const run = await drive(port, body, { overallRate: 1000, connections: 20 });
  loading = false;
  await poster;
  await stop(child);
  return { database: env.DATABASE_URL ? 'postgres' : 'sqlite', hookRps: round(run.rps, 0), feedbackPosts: latencies.length, failures, p50Ms: round(percentile(latencies, 50), 1), p99Ms: round(percentile(latencies, 99), 1) };
}

async function soak(body: string) {
  const { child, port } = await startServer('ours');
  const samples: { requests: number; rssMb: number }[] = [];
  for (let i = 1; i <= 4; i++) {
    await drive(port, body, { amount: 25_000 });
    samples.push({ requests: i * 25_000, rssMb: memory(child.pid!).rssMb });
    log(`  soak ${i * 25_000} requests: RSS ${samples.at(-1)!.rssMb} MB`);
  }
  const peakMb = memory(child.pid!).peakMb;
  await stop(child);
  return { samples, peakMb, growth2to4Mb: round(samples[3]!.rssMb - samples[1]!.rssMb, 1) };
}

async function main(): Promise<void> {
  const body = JSON.stringify(orderSelectRequest({ hookInstance: 'bench-[<id>]' }));
  log(`ldn-cds benchmark: ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}, body ${round(body.length / 1024, 1)} KB, ${DURATION_S}s x ${ROUNDS} rounds, ${CONNECTIONS} connections`);
  log('HTTP, ours vs floor (alternating):');
  const httpResult = await httpComparison(body);
  log(`  median: ours ${httpResult.ours.rps} req/s vs floor ${httpResult.floor.rps} req/s → ratio ${httpResult.ratio}`);
  const half = await p99AtHalfFloor(body, httpResult.floor.rps);
  log(`ours at 50% of the floor's rate (${half.rate} req/s): p50 ${half.p50Ms} ms, p99 ${half.p99Ms} ms`);
  const changed = await changedDraftEveryCall();
  log(`ours when every call changes the draft order (no memo hit): ${changed.rps} req/s (${round(changed.rps / httpResult.floor.rps, 3)} of the floor), p50 ${changed.p50Ms} ms, p99 ${changed.p99Ms} ms`);
  const feedback = await feedbackUnderLoad(body);
  log(`feedback under 1,000 hook calls/s (${feedback.database}): ${feedback.feedbackPosts} posts, p50 ${feedback.p50Ms} ms, p99 ${feedback.p99Ms} ms, failures ${feedback.failures}`);
  log('In-process evaluation:');
  const engine = await inProcess();
  for (const s of [engine.realistic, ...engine.scaling]) {
    log(
      `  ${String(s.statements).padStart(5)} statements (${s.cards} cards): resent ${s.resent.medianMs} ms, changed draft ${s.changedDraft.medianMs} ms, ` +
        `new chart ${s.newChart.medianMs} ms (medians; p99 ${s.resent.p99Ms} / ${s.changedDraft.p99Ms} / ${s.newChart.p99Ms}); first call of the process ${s.firstCallMs} ms`,
    );
  }
  log('Fetch path (nothing prefetched, 4 keys, FHIR answers in 20 ms):');
  const fetch = await fetchPath();
  log(`  p50 ${fetch.p50Ms} ms (overhead over one round trip: ${fetch.overheadP50Ms} ms), p99 ${fetch.p99Ms} ms`);
  const soakResult = QUICK ? undefined : (log('Soak (100,000 requests):'), await soak(body));
  if (soakResult) log(`  peak RSS ${soakResult.peakMb} MB; growth between 50k and 100k: ${soakResult.growth2to4Mb} MB`);

  const report = {
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, totalMemGb: round(os.totalmem() / 2 ** 30, 1) },
    settings: { durationS: DURATION_S, rounds: ROUNDS, connections: CONNECTIONS, bodyBytes: body.length },
    http: { ours: httpResult.ours, floor: httpResult.floor, ratio: httpResult.ratio, changedDraftEveryCall: { ...changed, ratio: round(changed.rps / httpResult.floor.rps, 3) } },
    halfFloorRate: half,
    feedbackUnderLoad: feedback,
    inProcess: engine,
    fetchPath: fetch,
    ...(soakResult ? { soak: soakResult } : {}),
    targets: {
      throughputRatioAtLeast0_7: httpResult.ratio >= 0.7,
      p99Under25msAtHalfFloor: half.p99Ms < 25,
      feedbackP99Under100msAt1000HookCallsPerS: feedback.p99Ms < 100 && feedback.failures === 0,
      realisticEvaluationUnder1msMedian: { resent: engine.realistic.resent.medianMs < 1, changedDraft: engine.realistic.changedDraft.medianMs < 1, newChart: engine.realistic.newChart.medianMs < 1 },
      fiveThousandStatementsUnder50ms: { resent: engine.scaling.at(-1)!.resent.medianMs < 50, changedDraft: engine.scaling.at(-1)!.changedDraft.medianMs < 50, newChart: engine.scaling.at(-1)!.newChart.medianMs < 50 },
      fetchP50Within10msOfRoundTrip: fetch.overheadP50Ms <= 10,
      ...(soakResult ? { rssUnder200Mb: soakResult.peakMb < 200, noGrowthSecondToFourthQuarter: soakResult.growth2to4Mb <= 5 } : {}),
    },
  };
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const dir = path.join(PROJECT_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${report.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(report, null, 2));
    const verdict = (v: boolean | Record<string, boolean>): string =>
      typeof v === 'boolean' ? (v ? 'met' : 'MISSED') : `(${Object.entries(v).map(([k, x]) => `${k} ${x ? 'met' : 'MISSED'}`).join(', ')})`;
    log(`Targets: ${Object.entries(report.targets).map(([k, v]) => `${k} ${verdict(v)}`).join('; ')}`);
    log(`Wrote ${path.relative(PROJECT_ROOT, file)}`);
  }
  rmSync(DATA_DIR, { recursive: true, force: true });
}

void main();
