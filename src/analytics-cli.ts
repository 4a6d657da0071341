/**
 * `ldn-cds report [--from DATE] [--to DATE] [--json]`: rule analytics from the configured database
 * (DATABASE_URL, else SQLITE_PATH), as a table or JSON. Exit codes: 0 done, 1 database problem, 2 bad usage.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/index.js';
import { createLogger } from './observability/logger.js';
import { clientOf, NO_REASON, parseReportRange, type ReportRange, type RuleAnalytics } from './storage/analytics.js';
import { createStorage, StorageUnavailableError } from './storage/index.js';

export const REPORT_USAGE = `Usage: ldn-cds report [--from DATE] [--to DATE] [--issuer ISS [--tenant T]] [--json]

  --from DATE   first day (YYYY-MM-DD, UTC) or instant (RFC 3339) of cards shown
  --to DATE     last day, included (YYYY-MM-DD), or instant, excluded (RFC 3339)
  --issuer ISS  only cards shown to this client (its JWT issuer)
  --tenant T    with --issuer: only this tenant
  --json        print JSON instead of a table

Reads DATABASE_URL (PostgreSQL) or SQLITE_PATH (SQLite file) like the service.`;

/**
 * Run the report. `argv` are the arguments after `report`; `out`/`err` receive whole lines.
 * `env` defaults to process.env (tests pass their own).
 */
export async function analyticsReport(argv: string[], out: (line: string) => void, err: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { from: { type: 'string' }, to: { type: 'string' }, issuer: { type: 'string' }, tenant: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } }));
  } catch (e) {
    err(`${(e as Error).message}\n\n${REPORT_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(REPORT_USAGE);
    return 0;
  }
  let range: ReportRange;
  let config;
  try {
    range = parseReportRange(values.from, values.to);
    if (values.tenant !== undefined && !values.issuer) throw new RangeError('--tenant needs --issuer');
    if (values.issuer) range.issuer = values.issuer;
    if (values.tenant !== undefined) range.tenant = values.tenant;
    config = loadConfig({ ...env, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' });
  } catch (e) {
    if (e instanceof RangeError || e instanceof ConfigError) {
      err(e.message);
      return 2;
    }
    throw e;
  }
  if (!config.databaseUrl && !existsSync(config.sqlitePath)) {
    err(`No database at ${path.resolve(config.sqlitePath)} (set SQLITE_PATH or DATABASE_URL)`);
    return 1;
  }

  const storage = await createStorage(config, {
    logger: createLogger(config.logLevel, process.stderr),
    // The report writes no feedback, so no override reason is consulted.
    overrideReasons: { get: () => undefined },
  });
  try {
    const rules = await storage.analytics(range);
    out(values.json ? JSON.stringify({ from: range.from?.toISOString() ?? null, to: range.to?.toISOString() ?? null, ...clientOf(range), rules }, null, 2) : formatReport(rules, range));
    return 0;
  } catch (e) {
    if (e instanceof StorageUnavailableError) {
      err(e.message);
      return 1;
    }
    throw e;
  } finally {
    await storage.close();
  }
}

/** A plain-text table, one line per rule and version, with the range it covers. */
function formatReport(rules: readonly RuleAnalytics[], range: ReportRange): string {
  const client = range.issuer ? ` to ${range.issuer}${range.tenant !== undefined ? ` (tenant ${range.tenant || 'none'})` : ''}` : '';
  const title = `Cards shown${client} from ${range.from?.toISOString() ?? 'the beginning'} to ${range.to?.toISOString() ?? 'now'}`;
  if (rules.length === 0) return `${title}\n(no cards shown)`;
  const header = ['rule', 'version', 'shown', 'accepted', 'overridden', 'acceptance', 'overridden by reason'];
  const rows = rules.map((r) => [
    r.ruleId,
    r.ruleVersion,
    String(r.shown),
    String(r.accepted),
    String(r.overridden),
    r.acceptanceRate === null ? '-' : `${(r.acceptanceRate * 100).toFixed(1)}%`,
    Object.entries(r.overriddenByReason)
      .sort(([a], [b]) => (a === NO_REASON ? 1 : b === NO_REASON ? -1 : a.localeCompare(b)))
      .map(([code, n]) => `${code} ${n}`)
      .join(', ') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [title, line(header), ...rows.map(line)].join('\n');
}
