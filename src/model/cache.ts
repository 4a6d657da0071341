/**
 * The one cache: a bounded LRU map, by entry count or by weight, with batch eviction; and a deep freeze for values
 * shared across requests. Used by fact extraction (src/clinical) and the evaluation memo (src/engine/memo.ts).
 */

/**
 * Bounded LRU map: `get` refreshes an entry; once the total weight (each entry weighs 1 unless `set` says
 * otherwise) is over `capacity`, `set` evicts the least recently used entries.
 */
export class LruCache<K, V> {
  readonly #map = new Map<K, { value: V; weight: number }>();
  #weight = 0;
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`LRU capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.#map.size;
  }

  /** The total weight of the entries held. */
  get weight(): number {
    return this.#weight;
  }

  get(key: K): V | undefined {
    const found = this.#map.get(key);
    if (found === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#map.delete(key);
    this.#map.set(key, found);
    return found.value;
  }

  set(key: K, value: V, weight = 1): void {
    const previous = this.#map.get(key);
    if (previous) {
      this.#weight -= previous.weight;
      this.#map.delete(key);
    }
    this.#map.set(key, { value, weight });
    this.#weight += weight;
    if (this.#weight > this.capacity) this.#evict();
  }

  /**
   * Drop the least recently used entries, in one pass, until the weight is within the capacity and at least a
   * sixteenth of the entries are gone. A Map iterator walks over every slot deleted since the table was last
   * rebuilt, so evicting one entry per `set` walked those slots on every call once the cache was full: 18% of
   * extracting a first-seen chart of 5,000 statements.
   */
  #evict(): void {
    let batch = Math.floor(this.#map.size / 16);
    for (const [key, { weight }] of this.#map) {
      if (this.#weight <= this.capacity && batch <= 0) break;
      this.#map.delete(key);
      this.#weight -= weight;
      batch--;
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
