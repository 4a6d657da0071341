/**
 * Scale-out on real parts (docs/scaling.md): two replicas behind nginx on loopback sharing PostgreSQL and Redis.
 * Every number is counted through HTTP: cards the clients received, feedback the clients were told was stored,
 * and what the service's own analytics endpoint (/admin/analytics: card audit joined to feedback) reports.
 * Needs nginx, DATABASE_URL and REDIS_URL: in CI (CI=true) a missing one FAILS this suite; elsewhere it skips
 * with a message.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { ADMIN_TOKEN, missingPrerequisites, orderSelect, startCluster, type Cluster } from './cluster.js';

const SERVICE = '/cds-services/ldn-order-select';
const FEEDBACK = `${SERVICE}/feedback`;
const missing = missingPrerequisites();
const inCi = process.env.CI === 'true';

interface Card {
  uuid: string;
  summary: string;
  indicator: string;
  overrideReasons?: Array<{ code: string; system: string }>;
}
interface Analytics {
  rules: Array<{ ruleId: string; shown: number; overridden: number; overriddenByReason: Record<string, number> }>;
}

if (missing.length && inCi) {
  describe('scale-out (nginx + two replicas)', () => {
    test('has what it needs in CI', () => {
      throw new Error(`scale-out suite cannot run in CI: missing ${missing.join(', ')} (.ci/run installs nginx and sets DATABASE_URL/REDIS_URL)`);
    });
  });
} else if (missing.length) {
  console.warn(`[ldn-cds tests] scale-out suite SKIPPED: missing ${missing.join(', ')}`);
  describe.skip('scale-out (nginx + two replicas)', () => {
    test('needs nginx, DATABASE_URL and REDIS_URL', () => {});
  });
} else {
  describe('scale-out: two replicas behind nginx sharing PostgreSQL and Redis', () => {
    let cluster: Cluster;
    /** Every card a client received (any replica, any path). */
    const served: Card[] = [];
    let nextUnused = 0;

    async function call(base: string, body = orderSelect(), token?: string): Promise<{ status: number; cards: Card[] }> {
      const res = await fetch(`${base}${SERVICE}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? (await cluster.token(SERVICE))}` },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { cards?: Card[] };
      const cards = res.status === 200 ? json.cards ?? [] : [];
      served.push(...cards);
      return { status: res.status, cards };
    }

    async function feedback(base: string, items: unknown[]): Promise<number> {
      const res = await fetch(`${base}${FEEDBACK}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await cluster.token(FEEDBACK)}` },
        body: JSON.stringify({ feedback: items }),
      });
      await res.arrayBuffer();
      return res.status;
    }

    const override = (card: Card, reason?: { code: string; system: string }) => ({
      card: card.uuid,
      outcome: 'overridden',
      outcomeTimestamp: new Date().toISOString(),
      ...(reason ? { overrideReason: { reason } } : {}),
    });

    async function analytics(): Promise<Analytics> {
      const res = await fetch(`${cluster.url}/admin/analytics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
      return (await res.json()) as Analytics;
    }
    const shown = (a: Analytics) => a.rules.reduce((n, r) => n + r.shown, 0);
    const overriddenWithoutReason = (a: Analytics) => a.rules.reduce((n, r) => n + (r.overriddenByReason['(none)'] ?? 0), 0);

    /** Poll the shared database (through HTTP) until `done`; the bound only keeps a broken run from hanging. */
    async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, limitMs: number): Promise<T> {
      const end = Date.now() + limitMs;
      let v = await read();
      while (!done(v) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        v = await read();
      }
      return v;
    }

    /** Run `total` tasks with `concurrency` in flight; each task retries (fresh token) until it succeeds. */
    async function pool(total: number, concurrency: number, task: (i: number) => Promise<boolean>): Promise<{ resent: number }> {
      let next = 0;
      let resent = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < total) {
            const i = next++;
            for (let attempt = 0; !(await task(i)); attempt++) {
              resent++;
              if (attempt > 20) throw new Error(`task ${i} failed 20 times`);
            }
          }
        }),
      );
      return { resent };
    }

    /** Serve enough cards through nginx that `count` unused ones exist. */
    async function unusedCards(count: number): Promise<Card[]> {
      while (served.length - nextUnused < count) {
        await pool(Math.ceil((count - (served.length - nextUnused)) / 3), 8, async () => (await call(cluster.url)).status === 200);
      }
      const cards = served.slice(nextUnused, nextUnused + count);
      nextUnused += count;
      return cards;
    }

    beforeAll(async () => {
      cluster = await startCluster({ replicas: 2, syncIntervalS: 1 });
    }, 120_000);
    afterAll(async () => {
      await cluster?.close();
    }, 60_000);

    test('each replica answers its own /readyz, ready, listing its checks', async () => {
      for (const r of cluster.replicas) {
        const res = await fetch(`${r.url}/readyz`);
        const body = (await res.json()) as { status: string; checks: Array<{ name: string; ok: boolean }> };
        expect(res.status, r.name).toBe(200);
        expect(body.status).toBe('ready');
        expect(body.checks.map((c) => c.name)).toEqual(['knowledge', 'auth', 'storage']);
      }
    });

    test('a replica whose Redis is unreachable says so on its own /readyz, while the others stay ready', async () => {
      const broken = await cluster.startExtra('replica-broken-redis', { REDIS_URL: 'redis://127.0.0.1:1' });
      const res = await fetch(`${broken.url}/readyz`);
      const body = (await res.json()) as { status: string; checks: Array<{ name: string; ok: boolean }> };
      expect(res.status).toBe(503);
      expect(body.checks.find((c) => c.name === 'auth')!.ok).toBe(false);
      expect(body.checks.find((c) => c.name === 'storage')!.ok).toBe(true);
      await broken.kill();
      for (const r of cluster.replicas) expect((await fetch(`${r.url}/readyz`)).status, r.name).toBe(200);
    }, 60_000);

    test('a JWT used on one replica is refused on the other (shared replay cache)', async () => {
      const [a, b] = cluster.replicas;
      const token = await cluster.token(SERVICE);
      expect((await call(a!.url, orderSelect(), token)).status).toBe(200);
      const replayed = await fetch(`${b!.url}${SERVICE}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(orderSelect()),
      });
      expect(replayed.status).toBe(401);
      expect(((await replayed.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
      // And through nginx, whichever replica it lands on.
      const again = await fetch(`${cluster.url}${SERVICE}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(orderSelect()) });
      expect(again.status).toBe(401);
    });

    test('an acknowledged override written through one replica holds on the other within STORAGE_SYNC_INTERVAL_S', async () => {
      const [a, b] = cluster.replicas;
      const patient = 'scale-suppress-1';
      const acknowledging = new Set(
        (parse(readFileSync(path.join(PROJECT_ROOT, 'cds-services/override-reasons.yaml'), 'utf8')) as { reasons: Array<{ code: string; acknowledges: boolean }> }).reasons
          .filter((r) => r.acknowledges)
          .map((r) => r.code),
      );
      const first = await call(b!.url, orderSelect(patient));
      const card = first.cards.find((c) => c.indicator !== 'critical' && c.overrideReasons?.some((r) => acknowledging.has(r.code)));
      expect(card, 'a non-critical card with an acknowledging override reason').toBeDefined();
      const reason = card!.overrideReasons!.find((r) => acknowledging.has(r.code))!;
      // The override can only name a card the audit log holds (its rule, patient and drug): the audit entry is
      // written just behind the answer, so wait for it as a clinician's click would (seconds later).
      await eventually(analytics, (v) => shown(v) >= served.length, 30_000);
      expect(await feedback(a!.url, [override(card!, { code: reason.code, system: reason.system })])).toBe(200);

      const started = Date.now();
      const later = await eventually(
        () => call(b!.url, orderSelect(patient)),
        (r) => !r.cards.some((c) => c.summary === card!.summary),
        cluster.syncIntervalS * 1000 * 10,
      );
      expect(later.cards.map((c) => c.summary)).not.toContain(card!.summary);
      expect(later.cards.length).toBe(first.cards.length - 1); // only that card is held back
      // Reported, not asserted (no timed assertions): how long the other replica took to learn of it.
      console.warn(`[scale] suppression reached the other replica after ${Date.now() - started} ms (sync interval ${cluster.syncIntervalS} s)`);
    }, 60_000);

    test('1,000 feedback posts spread over both replicas give exactly 1,000 stored feedback', async () => {
      const cards = await unusedCards(1000);
      const before = overriddenWithoutReason(await analytics());
      const { resent } = await pool(1000, 16, async (i) => (await feedback(cluster.replicas[i % 2]!.url, [override(cards[i]!)])) === 200);
      expect(resent).toBe(0);
      // Resending a copy is stored once (idempotent), whichever replica gets it.
      expect(await feedback(cluster.replicas[1]!.url, [override(cards[0]!)])).toBe(200);
      const after = overriddenWithoutReason(await analytics());
      expect(after - before).toBe(1000);
    }, 120_000);

    test('card audit rows equal the cards served', async () => {
      await unusedCards(300);
      // Audit entries are written behind the answer (queued, batched): wait until the queue has drained.
      const a = await eventually(analytics, (v) => shown(v) >= served.length, 30_000);
      expect(shown(a)).toBe(served.length);
    }, 120_000);

    test('killing one replica under steady load loses no feedback, and nginx keeps answering through the other', async () => {
      const cards = await unusedCards(600);
      const before = overriddenWithoutReason(await analytics());
      const statuses: number[] = [];
      let killed = false;
      const load = pool(600, 8, async (i) => {
        if (i === 200 && !killed) {
          killed = true;
          await cluster.replicas[1]!.kill('SIGKILL');
        }
        const status = await feedback(cluster.url, [override(cards[i]!)]);
        statuses.push(status);
        return status === 200;
      });
      const { resent } = await load;
      const after = overriddenWithoutReason(await analytics());
      expect(after - before).toBe(600);
      // Only requests in flight at the moment of the kill may fail (the client resends them with a fresh token).
      expect(resent).toBeLessThanOrEqual(8);
      expect(statuses.slice(-300).every((s) => s === 200)).toBe(true);
      expect((await fetch(`${cluster.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${cluster.replicas[0]!.url}/readyz`)).status).toBe(200);
      await expect(fetch(`${cluster.replicas[1]!.url}/readyz`)).rejects.toThrow();
      console.warn(`[scale] kill under load: ${resent} of 600 feedback posts resent by the client; statuses ${JSON.stringify(countBy(statuses))}`);
    }, 120_000);
  });
}

function countBy(values: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
