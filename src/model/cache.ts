/**
 * Caching helpers for fact extraction: a small bounded LRU map and a deep freeze for values shared across requests.
 */

/** Bounded LRU map: `get` refreshes an entry; beyond `capacity`, `set` evicts the least recently used ones. */
export class LruCache<K, V> {
  readonly #map = new Map<K, V>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`LRU capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.capacity) this.#evict();
  }

  /**
   * Drop the least recently used entries, down to the capacity less a sixteenth of it, in one pass. A Map iterator
   * walks over every slot deleted since the table was last rebuilt, so evicting one entry per `set` walked those
   * slots on every call once the cache was full: 18% of extracting a first-seen chart of 5,000 statements.
   */
  #evict(): void {
    const keep = this.capacity - Math.floor(this.capacity / 16);
    for (const key of this.#map.keys()) {
      if (this.#map.size <= keep) break;
      this.#map.delete(key);
    }
  }
}

/** Freeze a plain-data value and everything in it (cached facts are shared by every request that hits them). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
