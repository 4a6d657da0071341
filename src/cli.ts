/**
 * ldn-cds command line. One entry per command in COMMANDS (name, usage line, handler), so adding one is one entry.
 *   ldn-cds evaluate FILE [--service ID] [--now DATE] [--json]   cards for a hook request or a scenario file, in process
 *   ldn-cds call FILE [--url URL] [--service ID] [--json]        the same request sent to a running service
 *   ldn-cds report [--from DATE] [--to DATE] [--json]            rule analytics from the database
 *   ldn-cds test [PATH…] / ldn-cds lock                           the knowledge author's checks (src/authoring-cli.ts)
 * `evaluate` validates the request exactly as the HTTP service does, runs the rules and prints the cards. FILE is a
 * CDS Hooks request (JSON) or a scenario file (YAML, fixtures/scenarios): each of its cases is run and checked
 * against its `expect`. Prefetch should be complete; FHIR fetches follow the service's allow-list rules (env vars).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig } from './config/index.js';
import { createEngine } from './engine/index.js';
import { OutcomeError } from './model/outcomes.js';
import { issueText } from './model/problems.js';
import { KnowledgeError } from './model/problems.js';
import { loadKnowledge } from './engine/knowledge.js';
import { createLogger } from './observability/logger.js';
import type { Card } from './model/cards.js';
import type { RenderedCard } from './cards/render.js';
import { analyticsReport, REPORT_USAGE } from './analytics-cli.js';
import { mintTokenCommand } from './mint-token.js';
import { lockCommand, testCommand } from './authoring-cli.js';
import { evaluateRequest, expectationProblems, ScenarioError, type Expectation } from './scenarios/run.js';
import { hookRequest, ScenarioFile } from './scenarios/build.js';

type Out = (s: string) => void;

const INPUT = `  FILE is either
    - a CDS Hooks request (JSON: hook, hookInstance, context, prefetch), e.g. fixtures/requests/*.json, or
    - a scenario file (YAML: description, now, cases), e.g. fixtures/scenarios/*.yaml: every case is run.
  A FHIR resource or Bundle is not a hook request: put its resources in a request's prefetch (or in a
  scenario's medications and conditions).`;

const USAGE = `Usage: ldn-cds evaluate FILE [--service ID] [--now DATE] [--json]
       ldn-cds call FILE [--url URL] [--service ID] [--json]
       ldn-cds report [--from DATE] [--to DATE] [--json]
       ldn-cds test [PATH…] | ldn-cds lock (see ldn-cds test --help, ldn-cds lock --help)
       ldn-cds mint-token --aud URL [--init] (see ldn-cds mint-token --help)
       ldn-cds --help | <command> --help

  evaluate       run the rules here, without a service (knowledge from CDS_SERVICES_DIR)
  call           send the request to a running service, with a playground token when it asks for one
  report         rule analytics from the database (see ldn-cds report --help)
  test           check the knowledge pack: load it, compare with its lock, run the scenario files
  lock           record reviewed rule versions in cds-services/knowledge.lock.json
  mint-token     a signed test-client JWT for a first call (see ldn-cds mint-token --help)

${INPUT}

  --service ID   service id to call (default: the service serving the request's hook)
  --now DATE     evaluate: date for date arithmetic (default: now; a scenario file's own "now")
  --url URL      call: the service's base URL (default: PUBLIC_BASE_URL, else http://localhost:$PORT)
  --json         print the CDS Hooks response JSON instead of a readable summary
  --help         print this text

Exit codes: 0 done (and every scenario case as expected), 1 the service or a case said otherwise, 2 bad usage.`;

interface Command {
  run(argv: string[], out: Out, err: Out): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  evaluate: { run: evaluateCommand },
  call: { run: callCommand },
  report: { run: (argv, out, err) => analyticsReport(argv, out, err) },
  'mint-token': { run: (argv, out, err) => mintTokenCommand(argv, out, err) },
  test: { run: testCommand },
  lock: { run: lockCommand },
};

export async function main(argv: string[], out: Out = console.log, err: Out = console.error): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    err(USAGE);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    out(USAGE);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    err(`Unknown command "${name}".\n\n${USAGE}`);
    return 2;
  }
  if (name === 'report' && (rest.includes('--help') || rest.includes('-h'))) {
    out(REPORT_USAGE);
    return 0;
  }
  return command.run(rest, out, err);
}

// ------------------------------------------------------------------------------------------------------------
// Input: a hook request or a scenario file

interface Input {
  /** One entry per request: the request file itself, or each case of a scenario file. */
  requests: { name: string; request: Record<string, unknown>; expect?: Expectation[] }[];
  /** The scenario file's `now` (its expectations hold at that date). */
  now?: Date;
}

class UsageError extends Error {}

function readInput(file: string, now: Date | undefined): Input {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`Cannot read ${file}: ${(e as Error).message}`);
  }
  let data: unknown;
  let json = true;
  try {
    data = JSON.parse(text);
  } catch {
    json = false;
    try {
      data = parseYaml(text);
    } catch (e) {
      throw new UsageError(`${file} is neither JSON nor YAML: ${(e as Error).message.split('\n')[0]}\n\n${INPUT}`);
    }
  }
  const object = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  if (object && 'cases' in object && !('hook' in object)) {
    const parsed = ScenarioFile.safeParse(object);
    if (!parsed.success) throw new UsageError(`${file} is not a valid scenario file: ${parsed.error.issues.map(issueText).join('; ')}`);
    const scenarioNow = new Date(parsed.data.now);
    const at = now ?? scenarioNow;
    return { now: scenarioNow, requests: parsed.data.cases.map((c) => ({ name: c.name, request: hookRequest(c, at), expect: c.expect })) };
  }
  if (object && typeof object.hook === 'string') return { requests: [{ name: file, request: object }] };
  const what =
    object && typeof object.resourceType === 'string'
      ? `a FHIR ${object.resourceType}${object.resourceType === 'Bundle' && typeof object.type === 'string' ? ` (${object.type})` : ''}, not a CDS Hooks request`
      : `not a CDS Hooks request (no "hook" member)${json ? '' : ' and not a scenario file (no "cases")'}`;
  throw new UsageError(`${file} is ${what}.\n\n${INPUT}`);
}

function parse(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>, err: Out): { values: Record<string, string | boolean | undefined>; file?: string } | number {
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
    if (positionals.length > 1) throw new Error(`one FILE expected, got ${positionals.length}`);
    return { values, file: positionals[0] };
  } catch (e) {
    err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
}

// ------------------------------------------------------------------------------------------------------------
// evaluate

async function evaluateCommand(argv: string[], out: Out, err: Out): Promise<number> {
  const args = parse(argv, { service: { type: 'string' }, now: { type: 'string' } }, err);
  if (typeof args === 'number') return args;
  if (args.values.help) {
    out(USAGE);
    return 0;
  }
  if (!args.file) {
    err(`evaluate needs a FILE.\n\n${USAGE}`);
    return 2;
  }
  const nowText = args.values.now as string | undefined;
  const now = nowText === undefined ? undefined : new Date(nowText);
  if (now && Number.isNaN(now.getTime())) {
    err(`--now: "${nowText}" is not a date`);
    return 2;
  }
  try {
    const input = readInput(args.file, now);
    const at = now ?? input.now ?? new Date();
    const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
    const knowledge = loadKnowledge(config.cdsServicesDir);
    const engine = createEngine(knowledge, { config, logger: createLogger(config.logLevel, process.stderr), now: () => at });
    let failed = 0;
    const many = input.requests.length > 1 || input.requests[0]?.expect !== undefined;
    for (const item of input.requests) {
      const { service, evaluation: result } = await evaluateRequest(engine, item.request, args.values.service as string | undefined);
      if (many) out(`── ${item.name}`);
      if (args.values.json) out(JSON.stringify(result.response, null, 2));
      else out(describe(service.id, service.hook, result.rendered));
      if (item.expect) {
        const problems = expectationProblems(item.expect, result.rendered);
        if (problems.length) failed++;
        out(problems.length ? `  ✗ ${problems.join('; ')}` : '  ✓ as expected');
      }
      if (many) out('');
    }
    if (input.requests[0]?.expect !== undefined) out(`${input.requests.length - failed} of ${input.requests.length} cases as expected (evaluated at ${at.toISOString()})`);
    return failed ? 1 : 0;
  } catch (e) {
    return reportError(e, err);
  }
}

function reportError(e: unknown, err: Out): number {
  if (e instanceof UsageError || e instanceof ScenarioError) {
    err(e.message);
    return 2;
  }
  if (e instanceof OutcomeError) {
    err(`HTTP ${e.outcome.status}:\n${e.outcome.body.issue.map((i) => `  - ${i.details?.text}`).join('\n')}`);
    return 1;
  }
  if (e instanceof KnowledgeError || e instanceof ConfigError) {
    err(e.message);
    return 1;
  }
  throw e;
}

function describe(serviceId: string, hook: string, rendered: RenderedCard[]): string {
  if (rendered.length === 0) return `${serviceId} (${hook}): no cards`;
  const lines = [`${serviceId} (${hook}): ${rendered.length} card${rendered.length > 1 ? 's' : ''}`];
  for (const { card, draft } of rendered) lines.push(...describeCard(card, `rule: ${draft.ruleId} v${draft.ruleVersion}`));
  return lines.join('\n');
}

function describeCard(card: Card, rule?: string): string[] {
  const lines = ['', `[${card.indicator.toUpperCase()}] ${card.summary}`];
  if (rule) lines.push(`  ${rule}`);
  if (card.detail) lines.push(...card.detail.split('\n').map((l) => `  │ ${l}`));
  for (const s of card.suggestions ?? []) lines.push(`  suggestion: ${s.label} (${(s.actions ?? []).map((a) => `${a.type} ${a.resourceId ?? a.resource?.resourceType ?? ''}`.trim()).join(', ')})`);
  for (const r of card.overrideReasons ?? []) lines.push(`  override reason: ${r.display} (${r.code})`);
  for (const l of card.links ?? []) lines.push(`  link: ${l.label} <${l.url}>`);
  return lines;
}

// ------------------------------------------------------------------------------------------------------------
// call: the same request to a running service, as a CDS client

async function callCommand(argv: string[], out: Out, err: Out): Promise<number> {
  const args = parse(argv, { service: { type: 'string' }, url: { type: 'string' } }, err);
  if (typeof args === 'number') return args;
  if (args.values.help) {
    out(USAGE);
    return 0;
  }
  if (!args.file) {
    err(`call needs a FILE.\n\n${USAGE}`);
    return 2;
  }
  try {
    const input = readInput(args.file, undefined);
    const base = String(args.values.url ?? loadConfig({ ...process.env, LOG_LEVEL: 'silent' }).publicBaseUrls[0]).replace(/\/+$/, '');
    const client = await cdsClient(base);
    const discovery = await client.send('GET', '/cds-services');
    if (discovery.status !== 200) throw new CallError(`GET ${base}/cds-services answered HTTP ${discovery.status}${problem(discovery.json)}`);
    const services = ((discovery.json as { services?: { id: string; hook: string }[] }).services ?? []);
    let failed = 0;
    for (const item of input.requests) {
      const id = (args.values.service as string | undefined) ?? services.find((s) => s.hook === item.request.hook)?.id;
      if (!id) throw new CallError(`${base} has no service for hook "${String(item.request.hook)}" (it serves ${services.map((s) => `${s.id} (${s.hook})`).join(', ')})`);
      const res = await client.send('POST', `/cds-services/${id}`, item.request);
      if (input.requests.length > 1) out(`── ${item.name}`);
      if (res.status !== 200) {
        err(`POST ${base}/cds-services/${id} answered HTTP ${res.status}${problem(res.json)}`);
        failed++;
        continue;
      }
      const response = res.json as { cards: Card[]; extension?: Record<string, unknown> };
      if (args.values.json) out(JSON.stringify(response, null, 2));
      else {
        const held = Number(response.extension?.['ldn-cds.suppressed'] ?? 0);
        const lines = [`${id} (${String(item.request.hook)}) at ${base}: ${response.cards.length ? `${response.cards.length} card${response.cards.length > 1 ? 's' : ''}` : 'no cards'}${held ? `, ${held} held back by suppression` : ''}`];
        for (const card of response.cards) lines.push(...describeCard(card));
        out(lines.join('\n'));
      }
    }
    return failed ? 1 : 0;
  } catch (e) {
    if (e instanceof CallError) {
      err(e.message);
      return 1;
    }
    return reportError(e, err);
  }
}

class CallError extends Error {}

function problem(json: unknown): string {
  const issues = (json as { issue?: { details?: { text?: string }; diagnostics?: string }[] } | undefined)?.issue ?? [];
  return issues.length ? `:\n${issues.map((i) => `  - ${[i.details?.text, i.diagnostics].filter(Boolean).join(': ')}`).join('\n')}` : '';
}

/**
 * A client for `base`. When the service's playground is on and the service asks for JWTs, each call carries a
 * playground token minted for exactly that URL (given to clients on the same machine only); with AUTH_MODE=off
 * none is needed. Tokens are used once and never printed.
 */
async function cdsClient(base: string): Promise<{ send(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> }> {
  const request = async (method: string, url: string, body?: unknown, token?: string) => {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new CallError(`Cannot reach ${base} (${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message}): is the service running? Start it with npm start, or pass --url.`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, json };
  };
  const config = await request('GET', `${base}/playground/config`);
  const signed = config.status === 200 && (config.json as { authMode?: string }).authMode === 'required';
  return {
    async send(method, path, body) {
      let token: string | undefined;
      if (signed) {
        const minted = await request('POST', `${base}/playground/token`, { aud: `${base}${path}` });
        if (minted.status !== 200) throw new CallError(`No playground token from ${base}: HTTP ${minted.status}${problem(minted.json)}`);
        token = (minted.json as { token: string }).token;
      }
      return request(method, `${base}${path}`, body, token);
    },
  };
}
