/**
 * Throughput of one vs two replicas behind nginx (docs/scaling.md). Not a test: run by hand, alone on the machine,
 *   DATABASE_URL=... REDIS_URL=... npx tsx tests/scale/measure.ts [seconds] [connections] [replica counts, e.g. 1,2,1,2]
 * Each request carries its own pre-signed JWT (the replay cache refuses reuse), so signing is not measured.
 */
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { missingPrerequisites, orderSelect, startCluster } from './cluster.js';

const SERVICE = '/cds-services/ldn-order-select';
const seconds = Number(process.argv[2] ?? 15);
const connections = Number(process.argv[3] ?? 16);
const rounds = (process.argv[4] ?? '1,2').split(',').map(Number);

async function measure(replicas: number): Promise<autocannon.Result> {
  const cluster = await startCluster({ replicas, syncIntervalS: 30, logLevel: 'warn' });
  try {
    const tokens: string[] = [];
    for (let i = 0; i < (seconds + 3) * 2500; i++) tokens.push(await cluster.token(SERVICE));
    const body = JSON.stringify(orderSelect());
    let next = 0;
    // warm-up (JIT, connection pools), then the measured run
    for (const duration of [3, seconds]) {
      const result = await autocannon({
        url: `${cluster.url}${SERVICE}`,
        connections,
        duration,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
          },
        ],
      });
      if (duration === seconds) return result;
    }
    throw new Error('unreachable');
  } finally {
    await cluster.close();
  }
}

const missing = missingPrerequisites();
if (missing.length) {
  console.error(`missing ${missing.join(', ')}`);
  process.exit(2);
}
for (const replicas of rounds) {
  const load = loadavg()[0]!.toFixed(1);
  const r = await measure(replicas);
  const non2xx = r.non2xx + r.errors + r.timeouts;
  console.warn(
    `${replicas} replica(s): ${r.requests.average.toFixed(0)} req/s (p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms), ` +
      `${r.requests.total} requests, ${non2xx} not 2xx/errors, ${connections} connections, ${seconds} s, load average before ${load}`,
  );
}
