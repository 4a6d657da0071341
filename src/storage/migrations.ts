/**
 * Versioned schema migrations, in code (kysely Migrator with an in-memory provider), run at start-up and
 * recorded in `ldn_cds_migration`. Never edit a released migration: add the next one. Column types differ by
 * dialect only where they must (instants, flags; see schema.ts); the query code is the same for both.
 */
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import type { DatabaseLink, StorageKind } from './connection.js';

export const MIGRATION_TABLE = 'ldn_cds_migration';

interface ColumnTypes {
  time: 'timestamptz' | 'text';
  flag: 'boolean' | 'integer';
}

const columnTypes = (kind: StorageKind): ColumnTypes =>
  kind === 'postgres' ? { time: 'timestamptz', flag: 'boolean' } : { time: 'text', flag: 'integer' };

/** The migrations for one dialect, by name; names sort in the order they run. */
export function storageMigrations(kind: StorageKind): Record<string, Migration> {
  const t = columnTypes(kind);
  return {
    '0001_audit_feedback_suppression': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('card_audit')
          .addColumn('card_uuid', 'text', (c) => c.primaryKey())
          .addColumn('service_id', 'text', (c) => c.notNull())
          .addColumn('rule_id', 'text', (c) => c.notNull())
          .addColumn('rule_version', 'text', (c) => c.notNull())
          .addColumn('concern', 'text', (c) => c.notNull())
          .addColumn('hook', 'text', (c) => c.notNull())
          .addColumn('hook_instance', 'text', (c) => c.notNull())
          .addColumn('indicator', 'text', (c) => c.notNull())
          .addColumn('patient_hash', 'text', (c) => c.notNull())
          .addColumn('drug_key', 'text', (c) => c.notNull())
          .addColumn('order_keys', 'text', (c) => c.notNull())
          .addColumn('suggestion_uuids', 'text', (c) => c.notNull())
          .addColumn('shown_at', t.time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('card_audit_shown_at').on('card_audit').column('shown_at').execute();
        await db.schema.createIndex('card_audit_hook_shown_at').on('card_audit').columns(['hook', 'shown_at']).execute();

        await db.schema
          .createTable('feedback')
          .addColumn('natural_key', 'text', (c) => c.primaryKey())
          .addColumn('service_id', 'text', (c) => c.notNull())
          .addColumn('card_uuid', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('outcome_at', t.time, (c) => c.notNull())
          .addColumn('accepted_suggestions', 'text', (c) => c.notNull())
          .addColumn('reason_system', 'text')
          .addColumn('reason_code', 'text')
          .addColumn('has_comment', t.flag, (c) => c.notNull())
          .addColumn('user_comment', 'text')
          .addColumn('known_card', t.flag, (c) => c.notNull())
          .addColumn('received_at', t.time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('feedback_card_uuid').on('feedback').column('card_uuid').execute();
        await db.schema.createIndex('feedback_received_at').on('feedback').column('received_at').execute();

        await db.schema
          .createTable('suppression')
          .addColumn('feedback_key', 'text', (c) => c.primaryKey())
          .addColumn('rule_id', 'text', (c) => c.notNull())
          .addColumn('patient_hash', 'text', (c) => c.notNull())
          .addColumn('drug_key', 'text', (c) => c.notNull())
          .addColumn('reason_system', 'text')
          .addColumn('reason_code', 'text', (c) => c.notNull())
          .addColumn('covers_critical', t.flag, (c) => c.notNull())
          .addColumn('created_at', t.time, (c) => c.notNull())
          .addColumn('expires_at', t.time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('suppression_expires_at').on('suppression').column('expires_at').execute();
      },
    },
    // Client scope (src/storage/scope.ts). Rows written before it keep '' (a scope no client call has), so an
    // override recorded before the upgrade holds nothing back after it: cards show again, never fewer.
    '0002_client_scope': {
      async up(db: Kysely<unknown>) {
        const scoped: Array<[string, string[]]> = [
          ['card_audit', ['client_issuer', 'client_tenant', 'fhir_server']],
          ['feedback', ['client_issuer', 'client_tenant']],
          ['suppression', ['client_issuer', 'client_tenant', 'fhir_server']],
        ];
        for (const [table, columns] of scoped) {
          for (const column of columns) {
            await db.schema.alterTable(table).addColumn(column, 'text', (c) => c.notNull().defaultTo('')).execute();
          }
        }
      },
    },
    // Insertion order of card_audit rows, the suppression index's refresh cursor (src/storage/suppression-sync.ts):
    // shown_at cannot be one, another replica's rows reach the database late with an older shown_at. PostgreSQL: an
    // identity column (existing rows are numbered as the column is added; the table is rewritten once, under a
    // lock, so audit writes of other replicas wait for it). SQLite: the table's rowid already is that column.
    '0003_card_audit_seq': {
      async up(db: Kysely<unknown>) {
        if (kind !== 'postgres') return;
        await sql`alter table card_audit add column seq bigint generated always as identity`.execute(db);
        await db.schema.createIndex('card_audit_seq').on('card_audit').column('seq').execute();
      },
    },
  };
}

/** Bring the schema to the latest migration; returns the names applied now (empty when already current). */
export async function migrateToLatest(link: DatabaseLink): Promise<string[]> {
  return link.withMigrationConnection(async (db, schema) => {
    const migrations = storageMigrations(link.kind);
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => migrations },
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: `${MIGRATION_TABLE}_lock`,
      // PostgreSQL: pin the bookkeeping tables to the schema in use, so another schema's tables are never mistaken for ours.
      ...(schema ? { migrationTableSchema: schema } : {}),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error;
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  });
}

/**
 * Runs the migrations once, lazily: the first caller migrates, later callers wait on the same attempt, and a
 * failed attempt (database down at start) is retried by the next caller.
 */
export class SchemaGate {
  private done = false;
  private attempt: Promise<void> | undefined;

  constructor(
    private readonly link: DatabaseLink,
    private readonly onApplied: (names: string[]) => void,
  ) {}

  get isReady(): boolean {
    return this.done;
  }

  ready(): Promise<void> {
    if (this.done) return Promise.resolve();
    this.attempt ??= migrateToLatest(this.link)
      .then((names) => {
        this.done = true;
        this.onApplied(names);
      })
      .finally(() => {
        this.attempt = undefined;
      });
    return this.attempt;
  }
}
