/**
 * The audit writer on each backend (SQLite: a prepared statement per row in one transaction; PostgreSQL: one
 * multi-row INSERT): every column lands as the entry says, a batch written twice (a retry after a commit whose
 * answer was lost) leaves one row per card, and a batch that fails part-way writes nothing of itself.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditWriter } from '../../src/storage/audit.js';
import { openDatabase, type DatabaseLink } from '../../src/storage/connection.js';
import { migrateToLatest } from '../../src/storage/migrations.js';
import { BACKENDS, count, silentLogger, testOptions, type TestDatabase } from './backends.js';
import { auditEntry } from './harness.js';

describe.each(BACKENDS)('audit writer on $name', (backend) => {
  let db: TestDatabase;
  let link: DatabaseLink;
  beforeEach(async () => {
    db = await backend.create();
    link = openDatabase(db.config, testOptions(), silentLogger);
    await migrateToLatest(link);
  });
  afterEach(async () => {
    await link?.close();
    await db?.drop();
  });

  it('writes every column of every entry', async () => {
    const shownAt = new Date('2026-11-21T08:15:30.123Z');
    const entries = [
      auditEntry({ cardUuid: randomUUID(), suggestionUuids: ['s-1', 's-2'], orderKeys: ['k-1'], drugKey: 'naltrexone+oxycodone', shownAt }),
      auditEntry({ cardUuid: randomUUID(), ruleId: 'ldn-interferon', indicator: 'info', hook: 'order-sign', hookInstance: 'hi-2', patientHash: 'p-2', shownAt }),
    ];
    await auditWriter(link)(entries);
    const rows = await db.query<Record<string, unknown>>('select * from card_audit order by rule_id');
    expect(rows).toHaveLength(2);
    const byUuid = new Map(rows.map((r) => [r.card_uuid, r]));
    for (const e of entries) {
      const row = byUuid.get(e.cardUuid)!;
      expect(row).toMatchObject({
        service_id: e.serviceId,
        rule_id: e.ruleId,
        rule_version: e.ruleVersion,
        concern: e.concern,
        hook: e.hook,
        hook_instance: e.hookInstance,
        indicator: e.indicator,
        patient_hash: e.patientHash,
        drug_key: e.drugKey,
      });
      expect(JSON.parse(String(row.order_keys))).toEqual(e.orderKeys);
      expect(JSON.parse(String(row.suggestion_uuids))).toEqual(e.suggestionUuids);
      expect(new Date(row.shown_at as string | Date).toISOString()).toBe(shownAt.toISOString());
    }
  });

  it('skips rows already written when a batch is written again', async () => {
    const write = auditWriter(link);
    const first = [auditEntry({ cardUuid: randomUUID() }), auditEntry({ cardUuid: randomUUID() })];
    await write(first);
    const fresh = auditEntry({ cardUuid: randomUUID() });
    await write([...first, fresh]);
    expect(count(await db.query('select count(*) as n from card_audit'))).toBe(3);
    expect(count(await db.query('select count(*) as n from card_audit where card_uuid = ?', [fresh.cardUuid]))).toBe(1);
  });

  it('writes nothing of a batch that fails part-way, and rejects', async () => {
    const good = auditEntry({ cardUuid: randomUUID() });
    // A NOT NULL column left null fails the second row after the first was inserted.
    const bad = { ...auditEntry({ cardUuid: randomUUID() }), ruleId: null as unknown as string };
    await expect(auditWriter(link)([good, bad])).rejects.toThrow(/null/i);
    expect(count(await db.query('select count(*) as n from card_audit'))).toBe(0);
  });

  it('writes an empty batch as nothing', async () => {
    await auditWriter(link)([]);
    expect(count(await db.query('select count(*) as n from card_audit'))).toBe(0);
  });
});
