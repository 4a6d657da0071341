/**
 * The databases every storage suite runs against: SQLite (a temp file, always) and PostgreSQL when
 * DATABASE_URL is set (a fresh random schema per database, dropped afterwards, so runs are repeatable).
 * With DATABASE_URL set, an unreachable PostgreSQL FAILS the suites; without it they warn and skip it.
 *
 * Each test database can also be reached through a breakable path, to take the database away mid-run:
 * SQLite — another process-like connection holds the write lock (what a locked or unwritable file looks like);
 * PostgreSQL — a TCP proxy that cuts every connection and refuses new ones (a database restart or network cut).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { testConfig, type Config } from '../../src/config/index.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { createStorage, readStorageOptions, type OverrideReasonLookup, type Storage, type StorageOptions } from '../../src/storage/index.js';

export const DATABASE_URL = process.env.DATABASE_URL;

if (!DATABASE_URL) console.warn('[ldn-cds tests] DATABASE_URL is not set: the PostgreSQL variant of the storage suites is SKIPPED (SQLite runs)');

export type BackendName = 'sqlite' | 'postgres';

export interface TestDatabase {
  name: BackendName;
  /** Config pointing at this database (SQLITE_PATH or DATABASE_URL), tests' defaults otherwise. */
  config: Config;
  /** The same database as environment variables (for the CLI and child processes). */
  env: NodeJS.ProcessEnv;
  /** Rows of a query written with `?` placeholders (PostgreSQL `$n` are produced from them). */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** A path to this database that the test can break and heal. */
  breakable(): Promise<BreakablePath>;
  drop(): Promise<void>;
}

export interface BreakablePath {
  config: Config;
  /** Take the database away: writes (and, on PostgreSQL, everything) fail until heal(). */
  break(): Promise<void>;
  heal(): Promise<void>;
  close(): Promise<void>;
}

export interface Backend {
  name: BackendName;
  create(): Promise<TestDatabase>;
}

const sqliteBackend: Backend = {
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ldn-cds-storage-'));
    // A folder that does not exist yet: createStorage must create it.
    const file = path.join(dir, 'nested', 'folder', 'ldn-cds.sqlite');
    const env = { SQLITE_PATH: file };
    const config = testConfig(env);
    return {
      name: 'sqlite',
      config,
      env,
      async query<T>(text: string, params: unknown[] = []) {
        const handle = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
        try {
          return handle.prepare(text).all(...params) as T[];
        } finally {
          handle.close();
        }
      },
      async breakable() {
        let locker: SqliteDatabase.Database | undefined;
        return {
          config,
          async break() {
            mkdirSync(path.dirname(file), { recursive: true });
            locker = new SqliteDatabase(file);
            locker.pragma('journal_mode = WAL');
            locker.exec('BEGIN EXCLUSIVE');
          },
          async heal() {
            locker?.exec('ROLLBACK');
            locker?.close();
            locker = undefined;
          },
          async close() {
            if (locker?.open) locker.close();
          },
        };
      },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const postgresBackend: Backend = {
  name: 'postgres',
  async create() {
    const schema = `ldn_test_${randomBytes(6).toString('hex')}`;
    // The test's own connections: same schema, another application_name (so killing the storage's spares them).
    const admin = new pg.Pool({ connectionString: withSchema(DATABASE_URL!, schema, 'ldn-cds-test-helper'), max: 2, connectionTimeoutMillis: 5000 });
    try {
      await admin.query(`create schema ${schema}`); // fails the suite when DATABASE_URL is set but unreachable
    } catch (err) {
      await admin.end();
      throw err;
    }
    const url = withSchema(DATABASE_URL!, schema);
    const env = { DATABASE_URL: url };
    const config = testConfig(env);
    return {
      name: 'postgres',
      config,
      env,
      async query<T>(text: string, params: unknown[] = []) {
        let n = 0;
        const res = await admin.query(text.replace(/\?/g, () => `$${++n}`), params);
        return res.rows as T[];
      },
      async breakable() {
        const proxy = await startProxy(new URL(DATABASE_URL!));
        const viaProxy = new URL(url);
        viaProxy.hostname = '127.0.0.1';
        viaProxy.port = String(proxy.port);
        return { config: testConfig({ DATABASE_URL: viaProxy.toString() }), break: async () => proxy.cut(), heal: async () => proxy.heal(), close: () => proxy.close() };
      },
      async drop() {
        await admin.query(`drop schema if exists ${schema} cascade`);
        await admin.end();
      },
    };
  },
};

/** The backends available in this run: SQLite always, PostgreSQL when DATABASE_URL is set. */
export const BACKENDS: Backend[] = DATABASE_URL ? [sqliteBackend, postgresBackend] : [sqliteBackend];

/** A PostgreSQL URL whose connections use `schema` (search_path) and carry a recognisable application_name. */
export function withSchema(url: string, schema: string, applicationName = schema): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  u.searchParams.set('application_name', applicationName);
  return u.toString();
}

/** Storage options for tests: quick retries and lock timeouts, no background refresh during a test. */
export function testOptions(overrides: Partial<StorageOptions> = {}): StorageOptions {
  return {
    ...readStorageOptions({}),
    syncIntervalS: 3600,
    auditRetryMaxMs: 200,
    sqliteBusyTimeoutMs: 20,
    databaseConnectTimeoutMs: 1000,
    ...overrides,
  };
}

export const silentLogger: Logger = createLogger('silent');

/** A logger whose lines the test can read (JSON objects). */
export function capturingLogger(level = 'info'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

/** A test code system: which override reasons acknowledge a card. */
export const REASON_SYSTEM = 'https://ldn-cds.example.org/CodeSystem/override-reason';
export const testReasons: OverrideReasonLookup = {
  get(code) {
    switch (code) {
      case 'aware-of-risk':
        return { system: REASON_SYSTEM, acknowledges: true, suppressDays: 7 };
      case 'aware-default-days':
        return { system: REASON_SYSTEM, acknowledges: true };
      case 'aware-including-critical':
        return { system: REASON_SYSTEM, acknowledges: true, suppressDays: 7, suppressesCritical: true };
      case 'not-relevant':
        return { system: REASON_SYSTEM, acknowledges: false };
      default:
        return undefined;
    }
  },
};

/** createStorage with test defaults. */
export function openStorage(config: Config, overrides: { options?: Partial<StorageOptions>; logger?: Logger; reasons?: OverrideReasonLookup; syncChunkRows?: number } = {}): Promise<Storage> {
  return createStorage(config, {
    logger: overrides.logger ?? silentLogger,
    options: testOptions(overrides.options),
    overrideReasons: overrides.reasons ?? testReasons,
    ...(overrides.syncChunkRows ? { syncChunkRows: overrides.syncChunkRows } : {}),
  });
}

/** SQLite 0/1 and PostgreSQL booleans alike. */
export const flag = (v: unknown): boolean => v === true || v === 1 || v === '1';
/** SQLite numbers and PostgreSQL bigint strings alike. */
export const count = (rows: Array<Record<string, unknown>>): number => Number(rows[0]?.n ?? NaN);

interface Proxy {
  port: number;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

/** A TCP proxy to PostgreSQL that can drop every connection and refuse new ones. */
async function startProxy(target: URL): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: target.hostname, port: Number(target.port || 5432) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = (): void => {
    down = true;
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    cut,
    heal: () => {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
