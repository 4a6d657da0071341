/**
 * The cost of the stage spans with tracing off (no SDK: @opentelemetry/api no-ops), on the realistic in-process
 * evaluation (bench/realistic.ts: 50 MedicationStatements, 20 Conditions). Not a test: `npx tsx bench/tracing-overhead.ts`,
 * here and on a tree from before the spans, to compare. Medians of ROUNDS rounds; the three kinds of call of
 * bench/run.ts: resent (memo answers: no stage runs but suppression), changedDraft (rules and render run),
 * newChart (gather, extract, rules, render all run).
 */
import { loadConfig } from '../src/config/index.js';
import { createEngine } from '../src/engine/index.js';
import { parseHookRequest } from '../src/hooks/request.js';
import { loadKnowledge } from '../src/engine/knowledge.js';
import { createLogger } from '../src/observability/logger.js';
import { orderSelectRequest, type RequestOptions } from './realistic.js';

const ROUNDS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const config = loadConfig({ NODE_ENV: 'development', AUTH_MODE: 'off', LOG_LEVEL: 'silent' });
const knowledge = loadKnowledge(config.cdsServicesDir);
const engine = createEngine(knowledge, { config, logger: createLogger('silent') });
const service = knowledge.services.get('ldn-order-select')!;
const request = (options: RequestOptions = {}) =>
  parseHookRequest(JSON.parse(JSON.stringify(orderSelectRequest({ statements: 50, conditions: 20, ...options }))), service.hooks, service.id);
let run = 0;
const time = async (n: number, options: (i: number) => RequestOptions) => {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const req = request(options(i));
    const t = performance.now();
    await engine.evaluate(service, req);
    times.push(performance.now() - t);
  }
  return median(times);
};
await engine.evaluate(service, request());
const rounds = { resent: [] as number[], changedDraft: [] as number[], newChart: [] as number[] };
for (let r = 0; r < ROUNDS; r++) {
  rounds.resent.push(await time(2000, () => ({})));
  rounds.changedDraft.push(await time(500, (i) => ({ draftNote: `keystroke ${++run} ${i}` })));
  rounds.newChart.push(await time(200, (i) => ({ idSuffix: `-${++run}-${i}` })));
}
console.log(JSON.stringify(Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, { medianMs: Math.round(median(v) * 1000) / 1000, rounds: v.map((x) => Math.round(x * 1000) / 1000) }]))));
