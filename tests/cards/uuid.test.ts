/**
 * Card uuids are RFC 9562 version 7: the right version and variant bits, the time of their making in the first
 * 48 bits, sorted by time across milliseconds, and unique (random bits drawn from a pool that is refilled).
 */
import { describe, expect, it } from 'vitest';
import { timeOrderedUuid } from '../../src/cards/uuid.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millisOf = (uuid: string) => parseInt(uuid.replace(/-/g, '').slice(0, 12), 16);

describe('timeOrderedUuid', () => {
  it('has the version 7 and RFC variant bits', () => {
    for (let i = 0; i < 2_000; i++) expect(timeOrderedUuid()).toMatch(V7);
  });

  it('carries the given time in milliseconds, including times above 2^32 ms and the 48-bit maximum', () => {
    for (const t of [0, 1, 0xffffffff, 2 ** 32, Date.parse('2026-11-21T08:15:30.123Z'), 2 ** 48 - 1]) {
      const u = timeOrderedUuid(t);
      expect(u).toMatch(V7);
      expect(millisOf(u)).toBe(t);
    }
    const before = Date.now();
    const u = timeOrderedUuid();
    expect(millisOf(u)).toBeGreaterThanOrEqual(before);
    expect(millisOf(u)).toBeLessThanOrEqual(Date.now());
  });

  it('sorts as text in time order across milliseconds', () => {
    const times = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_255, 1_700_000_000_256, 1_700_000_065_536, 1_800_000_000_000];
    const uuids = times.map((t) => timeOrderedUuid(t));
    expect([...uuids].sort()).toEqual(uuids);
  });

  it('is unique over many draws in the same millisecond (more than one pool of random bytes)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) seen.add(timeOrderedUuid(1_700_000_000_000));
    expect(seen.size).toBe(50_000);
    // The random part is not constant: every hex digit position after the timestamp varies.
    const tails = [...seen].slice(0, 200).map((u) => u.slice(14));
    for (let pos = 0; pos < tails[0]!.length; pos++) {
      if (tails[0]![pos] === '-' || pos === 0 || pos === 5) continue; // separators; the version and variant digits
      expect(new Set(tails.map((t) => t[pos])).size).toBeGreaterThan(1);
    }
  });
});
