/**
 * Faults: the database taken away mid-run (SQLite: another connection holds the write lock; PostgreSQL: every
 * connection cut and new ones refused) — hook calls still answer with cards, audit entries queue (bounded,
 * counted, logged), feedback answers 503, readiness is not ok; once it is back the queue drains and feedback is
 * stored. Also: unreachable at start-up, connections killed by the server, and feedback surviving a process kill.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { once } from 'node:events';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { entryBytes } from '../../src/storage/audit.js';
import type { Storage } from '../../src/storage/index.js';
import { BACKENDS, REASON_SYSTEM, capturingLogger, count, flag, openStorage, type BreakablePath, type TestDatabase } from './backends.js';
import { SERVICE, UNSCOPED, auditEntry, buildApp, feedbackJson, type StandInHookBody } from './harness.js';

const hookCall = (patientHash = 'patient-a'): StandInHookBody => ({
  hook: 'order-select',
  patientHash,
  drafts: [{ ruleId: 'ldn-opioid', indicator: 'warning', drugKey: 'naltrexone+oxycodone', orderKeys: ['order-1'] }],
});

describe.each(BACKENDS)('database faults on $name', (backend) => {
  let db: TestDatabase;
  let breakable: BreakablePath;
  let storage: Storage | undefined;

  beforeEach(async () => {
    db = await backend.create();
    breakable = await db.breakable();
  });
  afterEach(async () => {
    await breakable?.heal();
    await storage?.close();
    storage = undefined;
    await breakable?.close();
    await db?.drop();
  });

  async function showCard(app: Express): Promise<string> {
    const res = await request(app).post(`/cds-services/${SERVICE}`).send(hookCall());
    expect(res.status).toBe(200);
    expect(res.body.cards).toHaveLength(1);
    return res.body.cards[0].uuid as string;
  }
  const postFeedback = (app: Express, items: unknown[]) => request(app).post(`/cds-services/${SERVICE}/feedback`).send({ feedback: items });
  const auditedCards = async () => new Set((await db.query<{ card_uuid: string }>('select card_uuid from card_audit')).map((r) => r.card_uuid));

  it('keeps serving cards while the database is down, answers feedback 503, and recovers', async () => {
    const { logger, lines } = capturingLogger('info');
    storage = await openStorage(breakable.config, { logger });
    const app = buildApp(storage);
    const before = await showCard(app);
    expect((await postFeedback(app, [feedbackJson(before, 'overridden')])).status).toBe(200);

    await breakable.break();
    const during = [await showCard(app), await showCard(app), await showCard(app)];
    expect(() => storage!.audit.recordCards([auditEntry({ cardUuid: randomUUID() })])).not.toThrow();

    const down = await postFeedback(app, [feedbackJson(during[0]!, 'overridden', { overrideReason: { reason: { code: 'aware-of-risk', system: REASON_SYSTEM } } })]);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] });
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.ok).toBe(false);
    expect(storage.stats().writeFailures).toBeGreaterThan(0);
    const audited = await auditedCards();
    for (const card of during) expect(audited.has(card)).toBe(false);
    expect(count(await db.query('select count(*) as n from feedback'))).toBe(1);

    await breakable.heal();
    expect((await request(app).get('/readyz')).status).toBe(200);
    const resent = await postFeedback(app, [feedbackJson(during[0]!, 'overridden', { overrideReason: { reason: { code: 'aware-of-risk', system: REASON_SYSTEM } } })]);
    expect(resent.status).toBe(200);

    const afterRecovery = await auditedCards();
    for (const card of [before, ...during]) expect(afterRecovery.has(card)).toBe(true);
    expect(storage.stats()).toMatchObject({ auditQueueDepth: 0, auditDropped: 0 });
    const [row] = await db.query<{ known_card: unknown }>('select known_card from feedback where card_uuid = ?', [during[0]]);
    expect(flag(row?.known_card)).toBe(true); // the queued audit row was written before the feedback
    // Held back from now on: the override acknowledged the card shown during the outage.
    expect((await request(app).post(`/cds-services/${SERVICE}`).send(hookCall())).body.cards).toEqual([]);

    const messages = lines.map((l) => l.msg);
    expect(messages.filter((m) => m === 'database unavailable: audit entries are queued, feedback answers 503')).toHaveLength(1);
    expect(messages).toContain('database available again');
  });

  it('drains the audit queue in the background once the database is back, without any feedback', async () => {
    storage = await openStorage(breakable.config);
    const app = buildApp(storage);
    await breakable.break();
    const during = [await showCard(app), await showCard(app)];
    await breakable.heal();
    await vi.waitFor(
      async () => {
        const audited = await auditedCards();
        expect(during.every((c) => audited.has(c))).toBe(true);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(storage.stats().auditQueueDepth).toBe(0);
  });

  it('without a spill file (AUDIT_SPILL=off), beyond AUDIT_QUEUE_MAX_BYTES the oldest entries are dropped, counted exactly and logged', async () => {
    const { logger, lines } = capturingLogger('warn');
    const entries = Array.from({ length: 8 }, () => auditEntry({ cardUuid: randomUUID() }));
    const maxBytes = 5 * entryBytes(entries[0]!); // the entries are all the same size
    storage = await openStorage(breakable.config, { logger, options: { auditQueueMaxBytes: maxBytes, auditSpill: false } });
    await breakable.break();
    storage.audit.recordCards(entries);
    expect(storage.stats()).toMatchObject({ auditDropped: 3 });
    expect(lines.find((l) => l.msg === 'card audit entries dropped (not written to the database)')).toMatchObject({ droppedTotal: 3, queueMaxBytes: maxBytes });

    await breakable.heal();
    // The first attempt may still meet a connection that died during the outage; the retries get through.
    await vi.waitFor(async () => expect(await auditedCards()).toEqual(new Set(entries.slice(3).map((e) => e.cardUuid))), { timeout: 10_000, interval: 50 });
    expect(storage.stats()).toMatchObject({ auditQueueDepth: 0, auditDropped: 3 });
  });

  it('an outage with far more entries than the memory bound loses nothing: they spill to the local file and are replayed once', async () => {
    const spillFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'ldn-cds-spill-')), 'audit-spill.ndjson');
    const entries = Array.from({ length: 1000 }, () => auditEntry({ cardUuid: randomUUID() }));
    const maxBytes = 50 * entryBytes(entries[0]!);
    storage = await openStorage(breakable.config, { options: { auditQueueMaxBytes: maxBytes, auditSpillFile: spillFile } });
    await breakable.break();
    for (let i = 0; i < entries.length; i += 10) storage.audit.recordCards(entries.slice(i, i + 10)); // hook calls during the outage
    expect(storage.stats().auditQueueDepth).toBeLessThanOrEqual(50);
    expect(storage.stats().auditSpilledBytes).toBeGreaterThan(0);
    await vi.waitFor(() => expect(existsSync(spillFile) || existsSync(`${spillFile}.replay`)).toBe(true));
    expect(storage.stats()).toMatchObject({ auditDropped: 0 });

    await breakable.heal();
    await vi.waitFor(async () => expect((await auditedCards()).size).toBe(entries.length), { timeout: 15_000, interval: 50 });
    expect(await auditedCards()).toEqual(new Set(entries.map((e) => e.cardUuid)));
    expect(count(await db.query('select count(*) as n from card_audit'))).toBe(entries.length);
    expect(storage.stats()).toMatchObject({ auditQueueDepth: 0, auditSpilledBytes: 0, auditDropped: 0 });
  });

  it('a stop during an outage keeps the queued entries in the spill file, and the next start replays them', async () => {
    const spillFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'ldn-cds-spill-')), 'audit-spill.ndjson');
    const entries = Array.from({ length: 30 }, () => auditEntry({ cardUuid: randomUUID() }));
    storage = await openStorage(breakable.config, { options: { auditQueueMaxBytes: 10 * entryBytes(entries[0]!), auditSpillFile: spillFile } });
    await breakable.break();
    storage.audit.recordCards(entries);
    await storage.close();
    storage = undefined;
    await breakable.heal();

    storage = await openStorage(breakable.config, { options: { auditSpillFile: spillFile } });
    await vi.waitFor(async () => expect(await auditedCards()).toEqual(new Set(entries.map((e) => e.cardUuid))), { timeout: 15_000, interval: 50 });
    expect(storage.stats()).toMatchObject({ auditSpilledBytes: 0, auditDropped: 0 });
  });

  it('starts while the database is unreachable, not ready, and migrates and serves once it is back', async () => {
    await breakable.break();
    storage = await openStorage(breakable.config);
    const app = buildApp(storage);
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(503);
    const card = await showCard(app);
    expect((await postFeedback(app, [feedbackJson(card, 'accepted')])).status).toBe(503);

    await breakable.heal();
    expect((await request(app).get('/readyz')).status).toBe(200);
    expect((await postFeedback(app, [feedbackJson(card, 'accepted')])).status).toBe(200);
    expect(await auditedCards()).toEqual(new Set([card]));
  });

  it('keeps a feedback answered 200 through a process kill (SIGKILL right after the answer)', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...db.env, NODE_ENV: 'test' };
    if (db.name === 'sqlite') delete env.DATABASE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'tests/storage/feedback-server.ts')], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      const port = /listening (\d+)/.exec(chunk.toString())?.[1];
      expect(port).toBeDefined();
      const base = `http://127.0.0.1:${port}`;
      const shown = await request(base).post(`/cds-services/${SERVICE}`).send(hookCall('patient-k'));
      const card = shown.body.cards[0].uuid as string;
      const res = await request(base)
        .post(`/cds-services/${SERVICE}/feedback`)
        .send({ feedback: [feedbackJson(card, 'overridden', { overrideReason: { reason: { code: 'aware-of-risk', system: REASON_SYSTEM } } })] });
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
    expect(child.signalCode).toBe('SIGKILL');

    storage = await openStorage(db.config);
    expect(count(await db.query('select count(*) as n from feedback'))).toBe(1);
    const [rule] = await storage.analytics({});
    expect(rule).toMatchObject({ ruleId: 'ldn-opioid', shown: 1, overridden: 1, overriddenByReason: { 'aware-of-risk': 1 } });
    const kept = storage.suppression.filter([{ draft: { ruleId: 'ldn-opioid', ruleVersion: '1.0.0', concern: 'ldn-opioid', indicator: 'warning', summary: 's', evidence: [], subjects: [] }, drugKey: 'naltrexone+oxycodone', orderKeys: [] }], {
      serviceId: SERVICE,
      hook: 'patient-view',
      patientHash: 'patient-k',
      scope: UNSCOPED,
      now: new Date(),
    });
    expect(kept).toEqual([]);
  });

  it.runIf(backend.name === 'postgres')('PostgreSQL: connections terminated by the server neither crash the process nor lose feedback', async () => {
    storage = await openStorage(db.config);
    const app = buildApp(storage);
    expect((await postFeedback(app, [feedbackJson(randomUUID(), 'overridden')])).status).toBe(200);
    const schema = new URL(db.env.DATABASE_URL!).searchParams.get('application_name');
    const killed = await db.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = ? and pid <> pg_backend_pid()', [schema]);
    expect(killed.length).toBeGreaterThan(0);

    const item = feedbackJson(randomUUID(), 'overridden');
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5 && statuses.at(-1) !== 200; attempt++) statuses.push((await postFeedback(app, [item])).status);
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(count(await db.query('select count(*) as n from feedback'))).toBe(2);
    expect((await storage.readiness()).ok).toBe(true);
  });
});
