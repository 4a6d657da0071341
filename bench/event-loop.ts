/**
 * How long one large hook call holds the event loop (issue 12 item 10). Not a test (no timing in tests): run with
 * `npx tsx bench/event-loop.ts`. In-process app with the real knowledge pack; each call's chart is new (unique
 * texts) so no cache helps. Prints, per case, the status, the response time and the longest event-loop stall
 * seen while the call ran (perf_hooks.monitorEventLoopDelay, 1 ms resolution), the process CPU time the call took
 * (less sensitive than wall time to a busy machine) and a /healthz probe's latency.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { testConfig } from '../src/config/index.js';

let salt = 0;
const statement = (i: number) => ({
  resourceType: 'MedicationStatement',
  id: `s${salt}-${i}`,
  status: 'active',
  subject: { reference: 'Patient/p1' },
  medicationCodeableConcept: { text: `${['oxycodone 5 mg tablet', 'metformin 500 mg tablet', 'interferon beta-1a', 'sertraline 50 mg'][i % 4]} #${salt}-${i}` },
  dosage: [{ text: `1 tablet twice daily ${salt}-${i}`, timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } } }],
});
const searchset = (n: number) => ({ resourceType: 'Bundle', type: 'searchset', entry: Array.from({ length: n }, (_, i) => ({ resource: statement(i) })) });

function body(prefetchStatements: number | undefined) {
  salt++;
  return {
    hook: 'order-sign',
    hookInstance: `bench-${salt}`,
    ...(prefetchStatements === undefined ? { fhirServer: 'https://fhir.example.org/r4' } : {}),
    context: {
      userId: 'Practitioner/x',
      patientId: 'p1',
      draftOrders: { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'MedicationRequest', id: `d${salt}`, status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' }, medicationCodeableConcept: { text: 'Naltrexone 4.5 mg capsule (compounded)' } } }] },
    },
    prefetch: {
      patient: { resourceType: 'Patient', id: 'p1' },
      ...(prefetchStatements === undefined ? {} : { medications: searchset(prefetchStatements) }),
      medicationRequests: { resourceType: 'Bundle', entry: [] },
      conditions: { resourceType: 'Bundle', entry: [] },
    },
  };
}

async function main(): Promise<void> {
  /** The stub FHIR server's answer, serialised before the measured call (its cost is not the service's). */
  let fetchedBody = '';
  const fetched = (n: number) => (fetchedBody = JSON.stringify(searchset(n)));
  const fhirStub = async () => new Response(fetchedBody, { status: 200, headers: { 'content-type': 'application/fhir+json' } });
  const limit = process.env.CHART_MAX_RESOURCES;
  const h = await createApp(
    testConfig({ FHIR_SERVER_ALLOWLIST: 'https://fhir.example.org/r4', FHIR_UNAUTHENTICATED_FETCH: 'true', REQUEST_DEADLINE_MS: '1000', BODY_LIMIT: '50mb', SUPPRESSION: 'off', ...(limit ? { CHART_MAX_RESOURCES: limit } : {}) }),
    { fetch: fhirStub as typeof fetch },
  );
  const server = h.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const cases: [string, () => unknown][] = [
    ['prefetch 100 statements', () => body(100)],
    ['prefetch 1,000 statements', () => body(1000)],
    ['prefetch 1,990 statements', () => body(1990)],
    ['prefetch 4,990 statements (under the default cap)', () => body(4990)],
    ['prefetch 20,000 statements (over the cap)', () => body(20000)],
    ['fetched 1,990 entries', () => (fetched(1990), body(undefined))],
    ['fetched 20,001 entries (over the cap)', () => (fetched(20001), body(undefined))],
  ];
  // Warm up (JIT, knowledge caches) so the figures are steady-state.
  for (let i = 0; i < 3; i++) await fetch(`${base}/cds-services/ldn-order-check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(500)) });

  const { loadavg } = await import('node:os');
  console.log(`CHART_MAX_RESOURCES=${limit ?? 'default'}; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('| case | status | response ms | process CPU ms | longest block, CPU ms | longest stall, wall ms | /healthz during call ms |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, make] of cases) {
    for (let run = 0; run < 3; run++) {
      const payload = JSON.stringify(make());
      const histogram = monitorEventLoopDelay({ resolution: 1 });
      histogram.enable();
      // The longest synchronous block in CPU time: a ticker on setImmediate records the process CPU used between
      // two of its turns. Unlike wall time, it is not inflated when the OS preempts the process on a busy machine.
      let maxBlockCpuMs = 0;
      let ticking = true;
      let last = process.cpuUsage();
      const tick = () => {
        const used = process.cpuUsage(last);
        maxBlockCpuMs = Math.max(maxBlockCpuMs, (used.user + used.system) / 1000);
        last = process.cpuUsage();
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      const cpu = process.cpuUsage();
      const started = performance.now();
      const call = fetch(`${base}/cds-services/ldn-order-check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload }).then(async (r) => {
        await r.text();
        return { status: r.status, ms: performance.now() - started };
      });
      await new Promise((r) => setTimeout(r, 2));
      const probeStart = performance.now();
      const probe = fetch(`${base}/healthz`).then(async (r) => {
        await r.text();
        return performance.now() - probeStart;
      });
      const [result, probeMs] = await Promise.all([call, probe]);
      histogram.disable();
      ticking = false;
      const used = process.cpuUsage(cpu);
      console.log(`| ${name} | ${result.status} | ${result.ms.toFixed(0)} | ${((used.user + used.system) / 1000).toFixed(0)} | ${maxBlockCpuMs.toFixed(1)} | ${(histogram.max / 1e6).toFixed(1)} | ${probeMs.toFixed(0)} |`);
    }
  }
  server.close();
  await h.close();
}

await main();
