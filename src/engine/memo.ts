/**
 * Memoised evaluation. Facts are a pure function of the chart and the evaluation date, and rules are pure functions
 * of the facts and the draft orders (src/rules/contract.ts), so an evaluation can be reused exactly when the
 * chart's content, the service and the date are the same. EHRs resend the same chart on every order-select
 * keystroke; this turns those calls into one hash. Each call still gets fresh card uuids (src/cards/answer.ts).
 *
 * Two kinds of key, both SHA-256 of content, never an id or version the client chose, so one client cannot plant
 * results for another: the body's digest (bodyMemoKey, when the body alone decided the chart: no parsing of the
 * prefetch at all on a resend), and the gathered chart's content (memoKey, when data was fetched). The cache is
 * bounded by the total size of the bodies and charts it remembers (the one LRU cache, src/model/cache.ts).
 */
import { hash } from 'node:crypto';
import type { PatientFacts } from '../model/facts.js';
import type { CardDraft } from '../model/cards.js';
import type { Chart } from '../model/chart.js';
import type { GatherReport } from '../data/gather.js';
import { deepFreeze, LruCache } from '../model/cache.js';

export interface MemoEntry {
  facts: PatientFacts;
  drafts: readonly CardDraft[];
  /** drugKey of each draft (same order): what the card is about, for suppression and audit. */
  drugKeys: readonly string[];
  /** orderKeys of each draft (same order): keyed hashes of the draft orders it is about. */
  orderKeys: readonly (readonly string[])[];
  /** Keyed hash of the chart's patient id. */
  patientHash: string;
  /** How the chart was gathered (prefetch keys satisfied or fetched). */
  report: GatherReport;
}

export interface MemoKey {
  key: string;
  /** Size of the serialised chart or of the body, the entry's weight in the budget. */
  weight: number;
}

export function memoKey(serviceId: string, chart: Chart, day: string): MemoKey {
  const text = JSON.stringify([serviceId, day, chart.hook, chart.patientId, chart.selections, chart.draftOrders, chart.resources, [...chart.medications.entries()]]);
  return { key: `chart:${hash('sha256', text, 'base64')}`, weight: text.length };
}

/** The key for a hook call's body digest (JsonDocument.digestWithout), the service and the day. */
export function bodyMemoKey(serviceId: string, day: string, body: { digest: string; bytes: number }): MemoKey {
  return { key: `body:${serviceId}:${day}:${body.digest}`, weight: body.bytes };
}

export class EvaluationMemo {
  /** Absent when the budget is 0 (memoisation off). */
  readonly #cache: LruCache<string, MemoEntry> | undefined;

  /** @param maxWeight total size (characters of serialised charts) remembered; 0 disables the memo. */
  constructor(readonly maxWeight: number) {
    this.#cache = maxWeight > 0 ? new LruCache(maxWeight) : undefined;
  }

  get size(): number {
    return this.#cache?.size ?? 0;
  }

  get hits(): number {
    return this.#cache?.hits ?? 0;
  }

  get misses(): number {
    return this.#cache?.misses ?? 0;
  }

  get(key: MemoKey): MemoEntry | undefined {
    return this.#cache?.get(key.key);
  }

  set(key: MemoKey, entry: MemoEntry): void {
    if (!this.#cache || key.weight > this.maxWeight / 4) return; // one huge chart must not flush everything else
    this.#cache.set(key.key, deepFreeze(entry), key.weight);
  }
}
