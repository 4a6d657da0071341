/**
 * Versioned migrations: an empty database gets the whole schema at start-up; a re-start on an existing database
 * applies nothing and keeps the data; SQLite gets its folder, a WAL journal; PostgreSQL schemas stay apart.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/connection.js';
import { MIGRATION_TABLE, migrateToLatest, storageMigrations } from '../../src/storage/migrations.js';
import { testConfig } from '../../src/config/index.js';
import { BACKENDS, DATABASE_URL, count, openStorage, silentLogger, testOptions, withSchema, type TestDatabase } from './backends.js';
import { auditEntry } from './harness.js';

const TABLES = ['card_audit', 'feedback', 'suppression'];

describe.each(BACKENDS)('migrations on $name', (backend) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await backend.create();
  });
  afterEach(async () => {
    await db?.drop();
  });

  async function tableNames(): Promise<string[]> {
    const rows =
      db.name === 'sqlite'
        ? await db.query<{ name: string }>("select name from sqlite_master where type = 'table'")
        : await db.query<{ name: string }>('select table_name as name from information_schema.tables where table_schema = current_schema()');
    return rows.map((r) => r.name).sort();
  }

  it('creates the whole schema on an empty database at start-up', async () => {
    if (db.name === 'sqlite') expect(existsSync(path.dirname(db.config.sqlitePath))).toBe(false);
    const storage = await openStorage(db.config);
    expect(storage.kind).toBe(db.name);
    await storage.close();

    const tables = await tableNames();
    for (const t of [...TABLES, MIGRATION_TABLE]) expect(tables).toContain(t);
    const applied = await db.query<{ name: string }>(`select name from ${MIGRATION_TABLE} order by name`);
    expect(applied.map((r) => r.name)).toEqual(Object.keys(storageMigrations(db.name)).sort());
  });

  it('re-starts on an existing database without applying anything again, keeping its data', async () => {
    const first = await openStorage(db.config);
    const card = randomUUID();
    first.audit.recordCards([auditEntry({ cardUuid: card })]);
    await first.audit.flush();
    await first.close();

    const second = await openStorage(db.config);
    expect((await second.readiness()).ok).toBe(true);
    await second.close();
    const link = openDatabase(db.config, testOptions(), silentLogger);
    try {
      expect(await migrateToLatest(link)).toEqual([]);
    } finally {
      await link.close();
    }
    expect(count(await db.query(`select count(*) as n from ${MIGRATION_TABLE}`))).toBe(Object.keys(storageMigrations(db.name)).length);
    expect(count(await db.query('select count(*) as n from card_audit where card_uuid = ?', [card]))).toBe(1);
  });

  it.runIf(backend.name === 'sqlite')('SQLite: the file uses a WAL journal', async () => {
    const storage = await openStorage(db.config);
    await storage.close();
    const [mode] = await db.query<{ journal_mode: string }>('pragma journal_mode');
    expect(mode?.journal_mode).toBe('wal');
  });

  it.runIf(backend.name === 'sqlite')('SQLite: SQLITE_PATH=:memory: gives a private in-memory database and writes no file', async () => {
    const before = new Set(readdirSync(process.cwd()));
    const storage = await openStorage(testConfig({ SQLITE_PATH: ':memory:' }));
    storage.audit.recordCards([auditEntry({ cardUuid: randomUUID() })]);
    await storage.audit.flush();
    expect(await storage.analytics({})).toMatchObject([{ shown: 1 }]);
    await storage.close();
    expect(new Set(readdirSync(process.cwd()))).toEqual(before);
  });

  it.runIf(backend.name === 'postgres')('PostgreSQL: a schema is migrated even when another schema of the database already is', async () => {
    const storage = await openStorage(db.config); // this schema now has ldn_cds_migration
    await storage.close();
    const other = `ldn_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      await admin.query(`create schema ${other}`);
      const second = await openStorage(testConfig({ DATABASE_URL: withSchema(DATABASE_URL!, other) }));
      await second.close();
      const { rows } = await admin.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1', [other]);
      expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining([...TABLES, MIGRATION_TABLE]));
    } finally {
      await admin.query(`drop schema if exists ${other} cascade`);
      await admin.end();
    }
  });
});
