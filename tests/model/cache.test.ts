/**
 * The bounded LRU map behind the per-resource fact caches and the drug-name memo: never more than its capacity,
 * the least recently used entries go first, a read refreshes an entry, and evicting stays cheap once full.
 */
import { describe, expect, it } from 'vitest';
import { LruCache } from '../../src/model/cache.js';

describe('LruCache', () => {
  it('never holds more than its capacity and keeps the most recent entries', () => {
    const cache = new LruCache<number, string>(16);
    for (let i = 0; i < 1_000; i++) {
      cache.set(i, `v${i}`);
      expect(cache.size).toBeLessThanOrEqual(16);
    }
    // The last fifteen (capacity less a sixteenth) are always there.
    for (let i = 985; i < 1_000; i++) expect(cache.get(i)).toBe(`v${i}`);
    expect(cache.get(0)).toBeUndefined();
  });

  it('evicts the least recently used first: a read refreshes an entry', () => {
    const cache = new LruCache<string, number>(4);
    for (const k of ['a', 'b', 'c', 'd']) cache.set(k, 1);
    expect(cache.get('a')).toBe(1); // now b is the oldest
    cache.set('e', 1);
    expect(cache.get('b')).toBeUndefined();
    for (const k of ['a', 'c', 'd', 'e']) expect(cache.get(k)).toBe(1);
  });

  it('replacing a key keeps one entry for it and makes it the most recent', () => {
    const cache = new LruCache<string, number>(3);
    cache.set('a', 1);
    cache.set('b', 1);
    cache.set('a', 2);
    expect(cache.size).toBe(2);
    cache.set('c', 1);
    cache.set('d', 1); // b is the oldest now
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(2);
  });

  it('a capacity of one holds the last entry', () => {
    const cache = new LruCache<number, number>(1);
    for (let i = 0; i < 10; i++) cache.set(i, i);
    expect(cache.size).toBe(1);
    expect(cache.get(9)).toBe(9);
  });

  it('counts hits and misses, and refuses a capacity that is not a positive integer', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.get('a');
    cache.get('z');
    expect([cache.hits, cache.misses]).toEqual([1, 1]);
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new LruCache(bad)).toThrow(/positive integer/);
  });

  it('by weight: holds at most its capacity in weight, and evicts a sixteenth of the entries at once when full', () => {
    const cache = new LruCache<number, number>(1_000);
    for (let i = 0; i < 100; i++) cache.set(i, i, 10);
    expect([cache.size, cache.weight]).toEqual([100, 1_000]);
    cache.set(100, 100, 10);
    expect(cache.weight).toBeLessThanOrEqual(1_000);
    expect(cache.size).toBe(101 - Math.floor(101 / 16)); // a batch of 6, not one entry per set
    expect(cache.get(100)).toBe(100);
    expect(cache.get(0)).toBeUndefined();
    cache.set(200, 200, 400); // a heavy entry evicts as much weight as it needs
    expect(cache.weight).toBeLessThanOrEqual(1_000);
    expect(cache.get(200)).toBe(200);
  });
});
