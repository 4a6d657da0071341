/**
 * ldn-cds command line, for knowledge authors:
 *   ldn-cds evaluate REQUEST.json [--service ID] [--now ISO-DATE] [--json]
 * Validates the hook request exactly as the HTTP service does, runs the rules and prints the cards.
 * Prefetch should be complete; FHIR fetches follow the same allow-list rules as the service (env vars).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { createEngine } from './engine.js';
import { parseHookRequest } from './hooks/request.js';
import { OutcomeError } from './http/outcomes.js';
import { KnowledgeError } from './knowledge/errors.js';
import { loadKnowledge } from './knowledge/load.js';
import { createLogger } from './observability/logger.js';
import type { RenderedCard } from './cards/render.js';
import { analyticsReport } from './analytics-cli.js';

const USAGE = `Usage: ldn-cds evaluate REQUEST.json [--service ID] [--now ISO-DATE] [--json]
       ldn-cds report [--from DATE] [--to DATE] [--json]   (rule analytics from the database)

  REQUEST.json   a CDS Hooks request body (hook, hookInstance, context, prefetch)
  --service ID   service id to call (default: the first service serving the request's hook)
  --now DATE     evaluation date for date arithmetic (default: now)
  --json         print the CDS Hooks response JSON instead of a readable summary`;

export async function main(argv: string[], out: (s: string) => void = console.log, err: (s: string) => void = console.error): Promise<number> {
  if (argv[0] === 'report') return analyticsReport(argv.slice(1), out, err);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { service: { type: 'string' }, now: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } });
  } catch (e) {
    err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command, file] = parsed.positionals;
  if (parsed.values.help || command !== 'evaluate' || !file) {
    err(USAGE);
    return parsed.values.help ? 0 : 2;
  }
  let body: unknown;
  try {
    body = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    err(`Cannot read ${file}: ${(e as Error).message}`);
    return 2;
  }
  const now = parsed.values.now ? new Date(parsed.values.now) : new Date();
  if (Number.isNaN(now.getTime())) {
    err(`--now: "${parsed.values.now}" is not a date`);
    return 2;
  }
  try {
    const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
    const knowledge = loadKnowledge(config.cdsServicesDir);
    const hook = (body as { hook?: unknown })?.hook;
    const endpoint = parsed.values.service
      ? knowledge.services.endpoint(parsed.values.service)
      : knowledge.services.endpoint(knowledge.services.all().find((s) => s.hook === hook)?.id ?? '');
    if (!endpoint) {
      err(parsed.values.service ? `No service "${parsed.values.service}"` : `No service serves hook "${String(hook)}"`);
      return 2;
    }
    const engine = createEngine(knowledge, { config, logger: createLogger(config.logLevel, process.stderr), now: () => now });
    const request = parseHookRequest(body, endpoint.hooks, endpoint.id);
    const service = endpoint.forHook(request.hook)!;
    const result = await engine.evaluate(service, request);
    if (parsed.values.json) out(JSON.stringify(result.response, null, 2));
    else out(describe(service.id, request.hook, result.rendered));
    return 0;
  } catch (e) {
    if (e instanceof OutcomeError) {
      err(`HTTP ${e.outcome.status}:\n${e.outcome.body.issue.map((i) => `  - ${i.details?.text}`).join('\n')}`);
      return 1;
    }
    if (e instanceof KnowledgeError) {
      err(e.message);
      return 1;
    }
    throw e;
  }
}

function describe(serviceId: string, hook: string, rendered: RenderedCard[]): string {
  if (rendered.length === 0) return `${serviceId} (${hook}): no cards`;
  const lines = [`${serviceId} (${hook}): ${rendered.length} card${rendered.length > 1 ? 's' : ''}`];
  for (const { card, draft } of rendered) {
    lines.push('', `[${card.indicator.toUpperCase()}] ${card.summary}`, `  rule: ${draft.ruleId} v${draft.ruleVersion}`);
    if (card.detail) lines.push(...card.detail.split('\n').map((l) => `  │ ${l}`));
    for (const s of card.suggestions ?? []) lines.push(`  suggestion: ${s.label} (${(s.actions ?? []).map((a) => `${a.type} ${a.resourceId ?? a.resource?.resourceType ?? ''}`.trim()).join(', ')})`);
    for (const r of card.overrideReasons ?? []) lines.push(`  override reason: ${r.display} (${r.code})`);
    for (const l of card.links ?? []) lines.push(`  link: ${l.label} <${l.url}>`);
  }
  return lines.join('\n');
}
