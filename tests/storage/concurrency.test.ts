/**
 * 1,000 distinct feedback items posted by 20 parallel clients (batches of 50) to a listening server, interleaved
 * with 100 resent duplicates: every call answers 200 and exactly 1,000 rows exist — nothing lost, nothing doubled.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/storage/index.js';
import { BACKENDS, REASON_SYSTEM, count, openStorage, type TestDatabase } from './backends.js';
import { SERVICE, auditEntry, buildApp, feedbackJson } from './harness.js';

const CLIENTS = 20;
const BATCH = 50;

describe.each(BACKENDS)('concurrent feedback on $name', (backend) => {
  let db: TestDatabase;
  let storage: Storage;
  let server: Server;
  let baseUrl: string;

  beforeEach(async () => {
    db = await backend.create();
    storage = await openStorage(db.config);
    server = buildApp(storage).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await storage?.close();
    await db?.drop();
  });

  it('stores exactly 1,000 rows from 20 parallel clients plus 100 duplicates', async () => {
    // Half of the cards were shown (audited) so known and unknown cards, and suppression writes, are all in the mix.
    const batches = Array.from({ length: CLIENTS }, (_, client) =>
      Array.from({ length: BATCH }, (_, i) => {
        const card = randomUUID();
        if (i % 2 === 0) storage.audit.recordCards([auditEntry({ cardUuid: card, patientHash: `patient-${client}-${i}` })]);
        return i % 3 === 0
          ? feedbackJson(card, 'accepted')
          : feedbackJson(card, 'overridden', { overrideReason: { reason: { code: i % 3 === 1 ? 'aware-of-risk' : 'not-relevant', system: REASON_SYSTEM } } });
      }),
    );
    const duplicates = [batches[3]!, batches[11]!]; // 2 × 50 items resent while the originals are in flight
    const post = (items: unknown[]) => request(baseUrl).post(`/cds-services/${SERVICE}/feedback`).send({ feedback: items });

    const responses = await Promise.all([...batches, ...duplicates].map(post));
    expect(responses.map((r) => r.status)).toEqual(Array(CLIENTS + duplicates.length).fill(200));

    expect(count(await db.query('select count(*) as n from feedback'))).toBe(CLIENTS * BATCH);
    const sent = new Set(batches.flat().map((f) => f.card as string));
    const stored = await db.query<{ card_uuid: string }>('select card_uuid from feedback');
    expect(new Set(stored.map((r) => r.card_uuid))).toEqual(sent);
    // Every acknowledging override of a shown card made exactly one suppression row.
    const expectedSuppressions = batches.flatMap((b) => b.filter((_, i) => i % 2 === 0 && i % 3 === 1)).length;
    expect(count(await db.query('select count(*) as n from suppression'))).toBe(expectedSuppressions);
  });
});
