/**
 * A JSON request body as received: its bytes, its structural scan, and the ways to read it.
 *
 * Hook calls are mostly prefetch: a chart of 30 KB or more that an EHR sends again, byte for byte, on every
 * order-select keystroke. `deferring('prefetch')` parses the rest of the body and leaves that member's value as
 * bytes, to be parsed only if it is needed; `digestWithout()` names the body's content, less members that change
 * on every call (hookInstance) or carry secrets (fhirAuthorization), so a resent chart can be recognised from its
 * bytes alone (src/engine/index.ts). Everything else reads the whole document with `value()`.
 */
import { createHash } from 'node:crypto';
import { badRequest, OutcomeError } from './outcomes.js';
import type { TopLevelMember } from './json-scan.js';

export class JsonDocument {
  #value: unknown;
  #parsed = false;
  readonly #members: ReadonlyMap<string, TopLevelMember> | undefined;

  /**
   * @param bytes the body, UTF-8, without a byte-order mark
   * @param members the top-level members from scanJson(bytes), when it could map them
   */
  constructor(
    readonly bytes: Buffer,
    members: readonly TopLevelMember[] | undefined,
  ) {
    this.#members = members ? new Map(members.map((m) => [m.key, m])) : undefined;
  }

  /** The whole document, parsed once. Throws OutcomeError 400 when it is not JSON. */
  value(): unknown {
    if (!this.#parsed) {
      this.#value = this.bytes.length === 0 ? {} : parseJson(this.bytes.toString('utf8'));
      this.#parsed = true;
    }
    return this.#value;
  }

  /**
   * The document parsed with the value of top-level member `name` replaced by `{}`, and a function that parses
   * that value when called (OutcomeError 400 if it is not JSON). Undefined when the top level could not be mapped
   * or the member is absent or not an object: then read the document with value().
   */
  deferring(name: string): { value: Record<string, unknown>; member: () => Record<string, unknown> } | undefined {
    const m = this.#members?.get(name);
    if (!m || this.bytes[m.start] !== 0x7b) return undefined;
    const rest = parseJson(`${this.bytes.toString('utf8', 0, m.start)}{}${this.bytes.toString('utf8', m.end)}`) as Record<string, unknown>;
    const placeholder = rest[name];
    // The scan and the parser must agree on where the member was; anything else and the whole document is parsed.
    if (!placeholder || typeof placeholder !== 'object' || Object.keys(placeholder).length !== 0) return undefined;
    let member: Record<string, unknown> | undefined;
    return {
      value: rest,
      member: () => (member ??= parseJson(this.bytes.toString('utf8', m.start, m.end)) as Record<string, unknown>),
    };
  }

  /**
   * SHA-256 (base64) of the body's bytes with the values of the named top-level members left out (their keys stay),
   * or undefined when the top level could not be mapped. Equal digests mean equal bodies apart from those members.
   */
  digestWithout(names: readonly string[]): string | undefined {
    if (!this.#members) return undefined;
    const skipped = names
      .map((n) => this.#members!.get(n))
      .filter((m): m is TopLevelMember => m !== undefined)
      .sort((a, b) => a.start - b.start);
    const h = createHash('sha256');
    let from = 0;
    for (const m of skipped) {
      h.update(this.bytes.subarray(from, m.start));
      h.update(GAP); // a NUL byte cannot occur in JSON text, so where a value was left out stays unambiguous
      from = m.end;
    }
    h.update(this.bytes.subarray(from));
    return h.digest('base64');
  }
}

const GAP = Buffer.from([0]);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new OutcomeError(badRequest('Request body is not valid JSON'));
  }
}
