/**
 * JsonDocument (src/model/json-document.ts): the prefetch left unparsed until needed, and the body's digest less
 * the members that change on every call, checked byte for byte.
 */
import { describe, expect, test } from 'vitest';
import { JsonDocument } from '../../src/model/json-document.js';
import { scanJson } from '../../src/model/json-scan.js';
import { OutcomeError } from '../../src/model/outcomes.js';
import { VOLATILE_MEMBERS } from '../../src/hooks/request.js';
import { orderSelect, withFhir } from '../helpers/app.js';

const doc = (text: string) => {
  const bytes = Buffer.from(text, 'utf8');
  return new JsonDocument(bytes, scanJson(bytes, 64).members);
};
const json = (value: unknown) => doc(JSON.stringify(value));

describe('JsonDocument.deferring', () => {
  test('parses the rest, stands {} in for the member, and parses the member only when asked', () => {
    const body = orderSelect();
    const split = json(body).deferring('prefetch')!;
    expect(split.value).toEqual({ ...body, prefetch: {} });
    expect(split.member()).toEqual(body.prefetch);
    expect(split.member()).toBe(split.member()); // parsed once
  });

  test('works wherever the member sits and however the body is spaced', () => {
    const { prefetch, ...rest } = orderSelect();
    const text = JSON.stringify({ prefetch, ...rest }, null, 2);
    const split = doc(text).deferring('prefetch')!;
    expect(split.member()).toEqual(prefetch);
    expect(split.value.context).toEqual(rest.context);
  });

  test('a member that is not JSON fails only when it is read, with a 400', () => {
    const split = doc('{"hook":"order-select","prefetch":{"medications": tru}}').deferring('prefetch')!;
    expect(split.value).toEqual({ hook: 'order-select', prefetch: {} });
    expect(() => split.member()).toThrow(OutcomeError);
    // Read again: still a 400 (the failure is not remembered as a value).
    let again: unknown;
    try {
      split.member();
    } catch (e) {
      again = e;
    }
    expect(again).toBeInstanceOf(OutcomeError);
    expect((again as OutcomeError).outcome.status).toBe(400);
  });

  test.each([
    ['absent', '{"hook":"x"}'],
    ['null', '{"hook":"x","prefetch":null}'],
    ['an array', '{"hook":"x","prefetch":[1]}'],
    ['escaped (the top level is not mapped)', '{"hook":"x","pre\\u0066etch":{"a":1}}'],
  ])('declines when the member is %s (the caller parses the whole body)', (_name, text) => {
    expect(doc(text).deferring('prefetch')).toBeUndefined();
  });

  test('the rest of the body must still be JSON', () => {
    expect(() => doc('{"hook":x,"prefetch":{}}').deferring('prefetch')).toThrow(OutcomeError);
  });
});

describe('JsonDocument.digestWithout', () => {
  const base = withFhir(orderSelect(), 'token-one');
  const digest = (value: unknown) => json(value).digestWithout(VOLATILE_MEMBERS);

  test('is the same for bodies that differ only in hookInstance and the access token', () => {
    const other = withFhir(orderSelect({ hookInstance: 'another-call' }), 'token-two');
    expect(digest(other)).toBe(digest(base));
  });

  test('changes with any other byte: prefetch, context, fhirServer, hook', () => {
    const d = digest(base)!;
    /** The digest of a copy of `base` with the value at `path` replaced (undefined: removed). */
    const changed = (path: (string | number)[], value: unknown) => {
      const b = structuredClone(base);
      let at = b as Record<string | number, unknown>;
      for (const p of path.slice(0, -1)) at = at[p] as Record<string | number, unknown>;
      if (value === undefined) delete at[path.at(-1)!];
      else at[path.at(-1)!] = value;
      return digest(b);
    };
    expect(changed(['prefetch', 'medications', 'entry', 0, 'resource', 'status'], 'stopped')).not.toBe(d);
    expect(changed(['context', 'patientId'], 'p2')).not.toBe(d);
    expect(changed(['context', 'draftOrders', 'entry', 0, 'resource', 'medicationCodeableConcept', 'text'], 'metformin 1000 mg')).not.toBe(d);
    expect(changed(['fhirServer'], 'https://other.example.org/fhir')).not.toBe(d);
    expect(changed(['fhirAuthorization'], undefined)).not.toBe(d);
    expect(changed(['hookInstance'], 'another')).toBe(d);
    expect(doc(JSON.stringify(base, null, 1)).digestWithout(VOLATILE_MEMBERS)).not.toBe(d); // bytes, not meaning
  });

  test('a left-out value cannot be forged by moving bytes across the gap', () => {
    const a = doc('{"hookInstance":"x","a":"1"}').digestWithout(['hookInstance']);
    const b = doc('{"hookInstance":"y","a":"1"}').digestWithout(['hookInstance']);
    const c = doc('{"hookInstance":1,"a":"1"}').digestWithout(['hookInstance']);
    expect(a).toBe(b);
    expect(c).toBe(a); // only the value is left out, whatever it is
    expect(doc('{"a":"1","hookInstance":"x"}').digestWithout(['hookInstance'])).not.toBe(a);
  });

  test('is undefined when the top level cannot be mapped', () => {
    expect(doc('[1,2]').digestWithout(VOLATILE_MEMBERS)).toBeUndefined();
    expect(doc('{"a":1,"a":2}').digestWithout(VOLATILE_MEMBERS)).toBeUndefined();
  });
});

describe('JsonDocument.value', () => {
  test('parses the whole body once; an empty body is {}; text that is not JSON is a 400', () => {
    const d = json({ a: [1] });
    expect(d.value()).toEqual({ a: [1] });
    expect(d.value()).toBe(d.value());
    expect(doc('').value()).toEqual({});
    expect(() => doc('{"a":').value()).toThrow(/not valid JSON/);
  });
});
