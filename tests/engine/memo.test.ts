import { describe, expect, test } from 'vitest';
import type { Resource } from 'fhir/r4.js';
import { EvaluationMemo, memoKey, type MemoEntry } from '../../src/engine/memo.js';
import type { Chart } from '../../src/model/chart.js';

function chart(resources: Resource[], drafts: Resource[] = []): Chart {
  return { hook: 'order-select', patientId: 'p1', draftOrders: drafts, selections: [], resources, medications: new Map() };
}
const entry: MemoEntry = { facts: { hook: 'order-select', now: '2026-11-21', focus: [], orders: [], medications: [], conditions: [] }, drafts: [], drugKeys: [], orderKeys: [], patientHash: 'h', report: { keys: {}, medicationReferencesFetched: 0 } };
const ms = (id: string, status = 'active') => ({ resourceType: 'MedicationStatement', id, status }) as Resource;

describe('evaluation memo', () => {
  test('the same chart content, service and day give the same key; any difference gives another', () => {
    const base = memoKey('svc', chart([ms('a')]), '2026-11-21');
    expect(memoKey('svc', chart([ms('a')]), '2026-11-21').key).toBe(base.key);
    expect(memoKey('svc', chart([ms('a', 'stopped')]), '2026-11-21').key).not.toBe(base.key);
    expect(memoKey('svc', chart([ms('a')]), '2026-11-22').key).not.toBe(base.key);
    expect(memoKey('other', chart([ms('a')]), '2026-11-21').key).not.toBe(base.key);
    expect(memoKey('svc', chart([ms('a')], [{ resourceType: 'MedicationRequest', id: 'd', status: 'draft' } as Resource]), '2026-11-21').key).not.toBe(base.key);
  });

  test('remembers entries, counts hits and misses, and freezes what it stores', () => {
    const memo = new EvaluationMemo(1_000_000);
    const key = memoKey('svc', chart([ms('a')]), '2026-11-21');
    expect(memo.get(key)).toBeUndefined();
    memo.set(key, { ...entry, drafts: [] });
    const got = memo.get(key)!;
    expect(Object.isFrozen(got.facts)).toBe(true);
    expect([memo.hits, memo.misses]).toEqual([1, 1]);
  });

  test('stays within its size budget, evicting the least recently used, and never stores a chart over a quarter of it', () => {
    const one = memoKey('svc', chart([ms('a')]), 'd');
    const memo = new EvaluationMemo(one.weight * 4 + 10);
    const keys = ['a', 'b', 'c', 'd', 'e'].map((id) => memoKey('svc', chart([ms(id)]), 'd'));
    for (const k of keys.slice(0, 4)) memo.set(k, { ...entry, drafts: [] });
    expect(memo.get(keys[0]!)).toBeDefined(); // read: now the most recent, so b is the least recently used
    memo.set(keys[4]!, { ...entry, drafts: [] });
    expect(memo.size).toBe(4);
    expect(memo.get(keys[1]!)).toBeUndefined();
    for (const k of [keys[0]!, keys[2]!, keys[3]!, keys[4]!]) expect(memo.get(k)).toBeDefined();
    const huge = memoKey('svc', chart(Array.from({ length: 20 }, (_, i) => ms(`x${i}`))), 'd');
    memo.set(huge, { ...entry, drafts: [] });
    expect(memo.get(huge)).toBeUndefined();
  });

  test('a budget of 0 stores nothing', () => {
    const memo = new EvaluationMemo(0);
    const key = memoKey('svc', chart([]), 'd');
    memo.set(key, { ...entry, drafts: [] });
    expect(memo.get(key)).toBeUndefined();
  });

  test('evicts in batches once full (not one entry per set): the memo is the one LRU cache of src/model/cache.ts', () => {
    const keys = Array.from({ length: 41 }, (_, i) => memoKey('svc', chart([ms(`m${String(i).padStart(2, '0')}`)]), 'd'));
    const memo = new EvaluationMemo(keys.slice(0, 40).reduce((sum, k) => sum + k.weight, 0));
    for (const k of keys.slice(0, 40)) memo.set(k, { ...entry, drafts: [] });
    expect(memo.size).toBe(40);
    memo.set(keys[40]!, { ...entry, drafts: [] });
    expect(memo.size).toBe(41 - Math.floor(41 / 16));
    expect(memo.get(keys[40]!)).toBeDefined();
  });
});
