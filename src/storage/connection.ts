/**
 * Open the database: PostgreSQL (pg Pool, short connect timeout, per-query timeout) when DATABASE_URL is set,
 * else a better-sqlite3 file (its folder created; WAL journal with synchronous=FULL, so a committed write
 * survives a process kill or power loss). Both give the same kysely handle; nothing above this file knows which.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type DatabaseIntrospector, type TableMetadata } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import { describeDbError } from './errors.js';
import type { StorageOptions } from '../config/storage.js';
import type { StorageSchema } from './schema.js';

export type StorageKind = 'sqlite' | 'postgres';

export interface DatabaseLink {
  kind: StorageKind;
  /** Where the data lives, without credentials: "sqlite /abs/file" or "postgres host:port/db". */
  label: string;
  db: Kysely<StorageSchema>;
  /**
   * SQLite only: the better-sqlite3 handle under `db`, for prepared statements on the hot write path. Use it only
   * inside `db.connection().execute(...)`, which holds kysely's connection, so nothing else interleaves.
   */
  sqlite?: SqliteDatabase.Database;
  /** Throws unless the database can be reached and written right now. */
  probe(): Promise<void>;
  /** Run migrations on a connection without the per-query timeout; `schema` is the PostgreSQL schema in use. */
  withMigrationConnection<T>(fn: (db: Kysely<unknown>, schema: string | undefined) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function openDatabase(config: Config, options: StorageOptions, logger: Logger): DatabaseLink {
  return config.databaseUrl ? openPostgres(config.databaseUrl, options, logger) : openSqlite(config.sqlitePath, options);
}

/** SQLITE_PATH value for a private in-memory database (tests, throw-away runs): nothing survives the process. */
export const SQLITE_IN_MEMORY = ':memory:';

function openSqlite(file: string, options: StorageOptions): DatabaseLink {
  const absolute = file === SQLITE_IN_MEMORY ? file : path.resolve(file);
  if (absolute !== SQLITE_IN_MEMORY) mkdirSync(path.dirname(absolute), { recursive: true });
  const handle = new SqliteDatabase(absolute);
  handle.pragma('journal_mode = WAL');
  handle.pragma('synchronous = FULL');
  handle.pragma(`busy_timeout = ${options.sqliteBusyTimeoutMs}`);
  const db = new Kysely<StorageSchema>({ dialect: new SqliteDialect({ database: handle }) });
  return {
    kind: 'sqlite',
    label: `sqlite ${absolute}`,
    db,
    sqlite: handle,
    async probe() {
      // A write lock, released at once: fails while another process holds the database locked.
      await db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        await sql`rollback`.execute(conn);
      });
    },
    withMigrationConnection: (fn) => fn(db as Kysely<unknown>, undefined),
    close: () => db.destroy(),
  };
}

function openPostgres(url: string, options: StorageOptions, logger: Logger): DatabaseLink {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.databasePoolMax,
    connectionTimeoutMillis: options.databaseConnectTimeoutMs,
    query_timeout: options.databaseQueryTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'ldn-cds',
  });
  // A connection lost (server restart, network cut) must never crash the process with an unhandled 'error' event.
  // Idle clients: the pool drops them and reports here. Checked-out clients (e.g. between two statements of a
  // transaction): the next query fails instead, and the pool discards the client on release.
  pool.on('error', (err) => logger.warn({ problem: describeDbError(err) }, 'idle PostgreSQL connection lost'));
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<StorageSchema>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    label: `postgres ${describePostgresUrl(url)}`,
    db,
    async probe() {
      await sql`select 1`.execute(db);
    },
    async withMigrationConnection(fn) {
      const migrationDb = new Kysely<unknown>({
        dialect: new CurrentSchemaPostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: options.databaseConnectTimeoutMs, application_name: 'ldn-cds-migrate' }) }),
      });
      try {
        const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(migrationDb);
        const schema = rows[0]?.schema;
        if (!schema) throw new Error('no schema of the search_path exists');
        return await fn(migrationDb, schema);
      } finally {
        await migrationDb.destroy();
      }
    },
    close: () => db.destroy(),
  };
}

/**
 * The migrator asks the introspector whether its bookkeeping tables exist. kysely's own PostgreSQL introspector
 * reads every column of every schema of the database: slow on a big shared database, and it fails when another
 * schema is dropped at that moment. This one looks at the schema in use only, which is all the migrator needs.
 */
class CurrentSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    const getTables = async (): Promise<TableMetadata[]> => {
      const { rows } = await sql<{ name: string; schema: string }>`select table_name as name, table_schema as schema from information_schema.tables where table_schema = current_schema()`.execute(db);
      return rows.map((r) => ({ ...r, isView: false, columns: [] }));
    };
    return {
      getSchemas: async () => (await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace where nspname = current_schema()`.execute(db)).rows,
      getTables,
      getMetadata: async () => ({ tables: await getTables() }),
    };
  }
}

/** host:port/database of a PostgreSQL URL, never its user or password. */
function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}
