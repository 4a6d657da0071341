/**
 * The suppression index with 1M card-audit rows in the ORDER_SIGN_DEDUP_WINDOW_MIN window (issue 19): time from
 * start to ready, how long the background load of the window takes, the longest event-loop stall while it runs,
 * and the longest stall of a periodic refresh after another replica wrote 30 s of cards. Not a test (no timing in
 * tests): run with `npx tsx bench/storage-sync.ts` (SQLite), and with BENCH_DATABASE_URL=postgres://… for
 * PostgreSQL too (a fresh schema, dropped afterwards). BENCH_ROWS overrides the 1,000,000 rows.
 *
 * Rows: order-select info cards over the last 11.5 hours, 4 rules × 2 order-select calls per draft order
 * (125,000 orders, 500,000 index entries), 50,000 patients; written by SQL in the database, not through the service.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { testConfig, type Config } from '../src/config/index.js';
import { createLogger } from '../src/observability/logger.js';
import { createStorage, readStorageOptions, type Storage } from '../src/storage/index.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const REFRESH_ROWS = 3_000; // 30 s (STORAGE_SYNC_INTERVAL_S) of another replica at 100 cards/s
const REFRESHES = 10;
const SPAN_MS = 11.5 * 3_600_000;
const logger = createLogger('silent');
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

interface Target {
  name: string;
  config: Config;
  /** Insert `count` order-select rows numbered from `from`, shown_at spread over [startMs, startMs + spanMs). */
  seed(from: number, count: number, startMs: number, spanMs: number): Promise<void>;
  drop(): Promise<void>;
}

function sqliteTarget(): Target {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ldn-cds-bench-sync-'));
  const file = path.join(dir, 'ldn-cds.sqlite');
  return {
    name: 'sqlite',
    config: testConfig({ SQLITE_PATH: file }),
    async seed(from, count, startMs, spanMs) {
      const handle = new SqliteDatabase(file);
      handle.pragma('journal_mode = WAL');
      handle.prepare(
        `with recursive n(i) as (select cast(? as integer) union all select i + 1 from n where i < ?)
         insert into card_audit (card_uuid, service_id, rule_id, rule_version, concern, hook, hook_instance, indicator,
           patient_hash, drug_key, order_keys, suggestion_uuids, shown_at)
         select 'card-' || i, 'ldn-order-select', 'rule-' || (i % 4), '1.0.0', 'rule-' || (i % 4), 'order-select', 'hi-' || (i / 4),
           'info', 'patient-' || ((i / 8) % 50000), 'naltrexone+oxycodone', '["order-' || (i / 8) || '"]', '[]',
           strftime('%Y-%m-%dT%H:%M:%fZ', (? + (i - ?) * ?) / 1000.0, 'unixepoch')
         from n`,
      ).run(from, from + count - 1, startMs, from, spanMs / count); // i stays an integer: i / 8 divides exactly
      handle.close();
    },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresTarget(url: string): Target {
  const schema = `ldn_bench_${randomBytes(6).toString('hex')}`;
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const pool = new pg.Pool({ connectionString: u.toString(), max: 1 });
  return {
    name: 'postgres',
    config: testConfig({ DATABASE_URL: u.toString() }),
    async seed(from, count, startMs, spanMs) {
      await pool.query(`create schema if not exists ${schema}`);
      if (count === 0) return;
      await pool.query(
        `insert into card_audit (card_uuid, service_id, rule_id, rule_version, concern, hook, hook_instance, indicator,
           patient_hash, drug_key, order_keys, suggestion_uuids, shown_at)
         select 'card-' || i, 'ldn-order-select', 'rule-' || (i % 4), '1.0.0', 'rule-' || (i % 4), 'order-select', 'hi-' || (i / 4),
           'info', 'patient-' || ((i / 8) % 50000), 'naltrexone+oxycodone', '["order-' || (i / 8) || '"]', '[]',
           to_timestamp(($3::float8 + (i - $1) * $4::float8) / 1000)
         from generate_series($1::bigint, $2::bigint) i`,
        [from, from + count - 1, startMs, spanMs / count],
      );
      await pool.query('analyze card_audit');
    },
    async drop() {
      await pool.query(`drop schema if exists ${schema} cascade`);
      await pool.end();
    },
  };
}

/** The longest the event loop was held, sampled by a 1 ms timer; read() first lets a late timer record the last stall. */
function stallMeter() {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    max = Math.max(max, t - last - 1);
    last = t;
  }, 1);
  return {
    reset() {
      last = performance.now();
      max = 0;
    },
    async read(): Promise<number> {
      await new Promise((r) => setTimeout(r, 5));
      return Math.max(0, max);
    },
    stop: () => clearInterval(timer),
  };
}

async function open(target: Target): Promise<Storage> {
  return createStorage(target.config, { logger, options: { ...readStorageOptions({}), syncIntervalS: 3600 } });
}

async function measure(target: Target): Promise<Record<string, number | string>> {
  if (target.name === 'postgres') await target.seed(0, 0, 0, 1); // creates the schema
  const migrate = await open(target); // an empty database: creates the tables
  await migrate.close();
  const now = Date.now();
  let t = performance.now();
  await target.seed(0, ROWS, now - SPAN_MS, SPAN_MS);
  const seedS = (performance.now() - t) / 1000;

  const loop = stallMeter();
  t = performance.now();
  const storage = await open(target);
  const ready = await storage.readiness();
  const readyMs = performance.now() - t;
  const startStallMs = await loop.read();
  if (!ready.ok) throw new Error(`not ready: ${ready.detail}`);
  loop.reset();
  await storage.sync.warmed();
  const warmMs = performance.now() - t;
  const warmStallMs = await loop.read();
  const rss = process.memoryUsage().rss / 2 ** 20;

  let refreshStallMs = 0;
  const refreshMs: number[] = [];
  for (let r = 0; r < REFRESHES; r++) {
    await target.seed(ROWS + r * REFRESH_ROWS, REFRESH_ROWS, Date.now() - 30_000, 30_000);
    loop.reset();
    const started = performance.now();
    await storage.sync.refresh();
    refreshMs.push(performance.now() - started);
    refreshStallMs = Math.max(refreshStallMs, await loop.read());
  }
  loop.stop();
  const state = storage.sync.state();
  await storage.close();
  return {
    backend: target.name,
    rows: ROWS,
    seedS: round(seedS),
    readyMs: round(readyMs),
    maxStallUntilReadyMs: round(startStallMs),
    windowLoadedMs: round(warmMs),
    maxStallWhileLoadingMs: round(warmStallMs),
    refreshRows: REFRESH_ROWS,
    refreshMsMedian: round([...refreshMs].sort((a, b) => a - b)[Math.floor(refreshMs.length / 2)]!),
    maxRefreshStallMs: round(refreshStallMs),
    rssMiB: round(rss, 0),
    rowsRead: state.rowsRead,
  };
}

async function main(): Promise<void> {
  const targets = [sqliteTarget(), ...(process.env.BENCH_DATABASE_URL ? [postgresTarget(process.env.BENCH_DATABASE_URL)] : [])];
  const results = [];
  for (const target of targets) {
    try {
      results.push(await measure(target));
    } finally {
      await target.drop();
    }
  }
  console.table(results);
}

await main();
