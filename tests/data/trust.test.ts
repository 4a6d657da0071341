/**
 * What may reach the facts, and what is never answered as "nothing to say" (issue 12 items 1, 3, 6, 7, 9, 10):
 * another patient's resources, searches answering other types, medicationReferences that lead nowhere, unbounded
 * FHIR bodies, paths the FHIR server would read differently, malformed `contained`, lone surrogates, too many
 * resources, and a gathering that overran its deadline.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import request from 'supertest';
import type { Resource } from 'fhir/r4.js';
import type { AppHandle } from '../../src/app.js';
import { testConfig } from '../../src/config/index.js';
import { gatherChart } from '../../src/data/gather.js';
import { loadServices } from '../../src/knowledge/services.js';
import type { HookRequest } from '../../src/hooks/request.js';
import { FHIR, SERVICES_DIR, condition, memoryLogger, orderSelect, patientView, searchset, statement, testApp, withFhir } from '../helpers/app.js';
import { fhirMock, guardFhirMocks, postHook, withoutPrefetch } from '../helpers/fhir-mock.js';

const ALLOW = { FHIR_SERVER_ALLOWLIST: FHIR };
const fhir = () => fhirMock();

function withPrefetch(req: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  return { ...req, prefetch: { ...(req.prefetch as Record<string, unknown>), ...extra } };
}
function withDrafts(req: Record<string, unknown>, drafts: unknown[]): Record<string, unknown> {
  const context = { ...(req.context as Record<string, unknown>), draftOrders: { resourceType: 'Bundle', entry: drafts.map((resource) => ({ resource })) } };
  return { ...req, context };
}
const issueText = (res: request.Response) => (res.body.issue as { details: { text: string } }[]).map((i) => i.details.text).join('\n');

describe('trust in the data', () => {
  guardFhirMocks();
  let h: AppHandle;
  let log: ReturnType<typeof memoryLogger>;
  beforeAll(async () => {
    log = memoryLogger('info');
    h = await testApp({ ...ALLOW, CHART_MAX_RESOURCES: '50', FHIR_MAX_RESPONSE_BYTES: '20000', FHIR_MAX_CALL_BYTES: '30000' }, { logger: log.logger });
  });
  afterAll(() => h.close());
  const post = (body: unknown) => postHook(h, body);
  const droppedMetric = async (reason: string) => {
    const text = (await request(h.app).get('/metrics')).text;
    const m = new RegExp(`ldn_cds_resources_dropped_total\\{reason="${reason}"\\} (\\d+)`).exec(text);
    return m ? Number(m[1]) : 0;
  };

  describe('another patient\'s resources never reach the facts', () => {
    test.each([
      ['relative subject', { subject: { reference: 'Patient/other' } }],
      ['absolute subject', { subject: { reference: 'https://fhir.example.org/r4/Patient/other' } }],
      ['versioned subject', { subject: { reference: 'Patient/other/_history/3' } }],
      ['DSTU2 patient field', { subject: undefined, patient: { reference: 'Patient/other' } }],
      ['a Group subject', { subject: { reference: 'Group/ward-7' } }],
    ])('a fetched search holding a statement with a %s answers 412, counted and logged without ids', async (_name, extra) => {
      const before = await droppedMetric('other-patient');
      fhir().get('/r4/MedicationStatement').query((q) => q.patient === 'p1').reply(200, searchset([statement('mine'), statement('theirs', extra)]));
      const res = await post(withFhir(withoutPrefetch(orderSelect(), 'medications'))).expect(412);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(issueText(res)).toMatch(/prefetch key "medications".*1 resource for another patient/);
      expect(await droppedMetric('other-patient')).toBe(before + 1);
      expect(log.text()).toMatch(/may not reach the facts/);
      expect(log.text()).not.toMatch(/"other"|ward-7|theirs/);
    });

    test('the same subject written absolutely or versioned for the context patient is the patient\'s', async () => {
      const mine = [
        statement('a', { subject: { reference: 'https://fhir.example.org/r4/Patient/p1' } }),
        statement('b', { subject: { reference: 'Patient/p1/_history/2' } }),
        statement('c', { subject: undefined, patient: { reference: 'Patient/p1' } }),
        statement('d', { subject: { display: 'no reference' } }),
      ];
      const res = await post(withPrefetch(orderSelect(), { medications: searchset(mine) })).expect(200);
      expect(res.body.cards[0].summary).toBe('4 medications, 1 conditions');
    });

    test('a prefetch holding another patient\'s statement is fetched again from the FHIR server', async () => {
      fhir().get('/r4/MedicationStatement').query((q) => q.patient === 'p1').reply(200, searchset([statement('fresh')]));
      const body = withFhir(withPrefetch(orderSelect(), { medications: searchset([statement('s1'), statement('x', { subject: { reference: 'Patient/p2' } })]) }));
      const res = await post(body).expect(200);
      expect(res.body.cards[0].summary).toBe('1 medications, 1 conditions');
      expect(res.body.cards[0].detail).toMatch(/MedicationStatement\/fresh/);
      expect(res.body.cards[0].detail).not.toMatch(/\/x\b/);
    });

    test.each(['medicationRequests', 'conditions'])('a prefetched %s entry for another patient, with no FHIR access, is a 412 naming the key', async (key) => {
      const foreign = key === 'conditions'
        ? { ...condition('c9'), subject: { reference: 'Patient/p2' } }
        : { resourceType: 'MedicationRequest', id: 'r9', status: 'active', intent: 'order', subject: { reference: 'Patient/p2' }, medicationCodeableConcept: { text: 'morphine' } };
      const res = await post(withPrefetch(orderSelect(), { [key]: searchset([foreign as Resource]) })).expect(412);
      expect(issueText(res)).toMatch(new RegExp(`prefetch key "${key}".*another patient`));
    });

    test('an optional key (patient) for another patient is dropped and the call proceeds', async () => {
      await post(withPrefetch(orderSelect(), { patient: { resourceType: 'Patient', id: 'p2' } })).expect(200);
      expect(log.text()).toMatch(/optional prefetch key unavailable/);
    });

    test('a draft order for another patient is a 400 naming it', async () => {
      const draft = { resourceType: 'MedicationRequest', id: 'draft-1', status: 'draft', intent: 'order', subject: { reference: 'Patient/p2' }, medicationCodeableConcept: { text: 'naltrexone 4.5 mg' } };
      const res = await post(withDrafts(orderSelect(), [draft])).expect(400);
      expect(res.body.issue[0].expression).toEqual(['context.draftOrders.entry[0].resource']);
      expect(issueText(res)).toMatch(/another patient/);
    });

    test('a referenced Medication (no subject) is fine', async () => {
      const s = statement('m1', { medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/med-1' } });
      const res = await post(withPrefetch(orderSelect(), { medications: searchset([s, { resourceType: 'Medication', id: 'med-1', code: { text: 'morphine' } } as Resource]) })).expect(200);
      expect(res.body.cards[0].summary).toBe('1 medications, 1 conditions');
    });
  });

  describe('missing or unusable medication data is never "nothing to say"', () => {
    test('a medicationReference whose read answers 404 is a 412 naming it', async () => {
      fhir().get('/r4/Medication/gone').reply(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
      const s = statement('m1', { medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/gone' } });
      const res = await post(withFhir(withPrefetch(orderSelect(), { medications: searchset([s]) }))).expect(412);
      expect(issueText(res)).toMatch(/medicationReference "Medication\/gone" could not be read \(.*404/);
    });

    test('a medicationReference whose read answers another resource type is a 412', async () => {
      fhir().get('/r4/Medication/odd').reply(200, { resourceType: 'Patient', id: 'p1' });
      const s = statement('m1', { medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/odd' } });
      const res = await post(withFhir(withPrefetch(orderSelect(), { medications: searchset([s]) }))).expect(412);
      expect(issueText(res)).toMatch(/not a Medication/);
    });

    test.each([
      ['names no contained Medication', { medicationReference: { reference: '#nope' } }],
      ['"contained": 1', { medicationReference: { reference: '#m' }, contained: 1 }],
      ['"contained": [null]', { medicationReference: { reference: '#m' }, contained: [null] }],
      ['"contained": "x"', { medicationReference: { reference: '#m' }, contained: 'x' }],
    ])('a draft whose contained reference %s is a 412, not a 500', async (_name, extra) => {
      const draft = { resourceType: 'MedicationRequest', id: 'draft-1', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' }, ...extra };
      const res = await post(withDrafts(orderSelect(), [draft])).expect(412);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(issueText(res)).toMatch(/names no contained Medication/);
    });

    test('a prefetched statement with "contained": 1 and a codeable concept is read normally', async () => {
      await post(withPrefetch(orderSelect(), { medications: searchset([statement('s1', { contained: 1 })]) })).expect(200);
    });

    test('a medicationReference that is not a reference to a Medication is a 412', async () => {
      const s = statement('m1', { medicationCodeableConcept: undefined, medicationReference: { reference: 'urn:uuid:1234' } });
      const res = await post(withPrefetch(orderSelect(), { medications: searchset([s]) })).expect(412);
      expect(issueText(res)).toMatch(/not a reference to a Medication/);
    });

    test('a MedicationStatement search answering other resource types is a 412, not an empty list', async () => {
      const before = await droppedMetric('unexpected-type');
      fhir().get('/r4/MedicationStatement').query((q) => q.patient === 'p1').reply(200, searchset([{ resourceType: 'Observation', id: 'o1', subject: { reference: 'Patient/p1' } } as Resource]));
      const res = await post(withFhir(withoutPrefetch(orderSelect(), 'medications'))).expect(412);
      expect(issueText(res)).toMatch(/1 resource of type Observation \(the query is for MedicationStatement\)/);
      expect(await droppedMetric('unexpected-type')).toBe(before + 1);
    });

    test('entries a search _included (search.mode "include") are not unexpected types', async () => {
      const bundle = { ...searchset([statement('s1')]) } as unknown as { entry: unknown[] };
      bundle.entry.push({ resource: { resourceType: 'Practitioner', id: 'dr' }, search: { mode: 'include' } });
      const res = await post(withPrefetch(orderSelect(), { medications: bundle })).expect(200);
      expect(res.body.cards[0].summary).toBe('1 medications, 1 conditions');
    });

    test('a prefetch of the wrong type with no FHIR access is a 412', async () => {
      const res = await post(withPrefetch(orderSelect(), { conditions: searchset([statement('s9')]) })).expect(412);
      expect(issueText(res)).toMatch(/prefetch key "conditions".*MedicationStatement \(the query is for Condition\)/);
    });
  });

  describe('FHIR bodies are bounded', () => {
    const big = (n: number) => searchset(Array.from({ length: n }, (_, i) => statement(`s${i}`, { note: [{ text: 'x'.repeat(500) }] })));

    test('a body past FHIR_MAX_RESPONSE_BYTES without Content-Length (streamed) is aborted: 412', async () => {
      const body = JSON.stringify(big(60));
      fhir().get('/r4/MedicationStatement').query((q) => q.patient === 'p1').reply(200, () => {
        // A stream, so no Content-Length is sent.
        return new ReadableStreamLike(body);
      });
      const res = await post(withFhir(withoutPrefetch(orderSelect(), 'medications'))).expect(412);
      expect(issueText(res)).toMatch(/exceeds the service's byte limit/);
    });

    test('a declared Content-Length past the cap is refused before reading', async () => {
      fhir().get('/r4/MedicationStatement').query((q) => q.patient === 'p1').reply(200, JSON.stringify(big(60)), { 'content-length': String(JSON.stringify(big(60)).length) });
      const res = await post(withFhir(withoutPrefetch(orderSelect(), 'medications'))).expect(412);
      expect(issueText(res)).toMatch(/byte limit/);
    });

    test('responses each under the cap but together past FHIR_MAX_CALL_BYTES are a 412', async () => {
      // ~17.9 KB and ~16.8 KB: each under 20,000 bytes, together over 30,000.
      fhir().get('/r4/MedicationStatement').query((q) => q.patient === 'p1').reply(200, big(26));
      fhir().get('/r4/Condition').query({ patient: 'p1' }).reply(200, searchset(Array.from({ length: 26 }, (_, i) => ({ ...condition(`c${i}`), note: [{ text: 'x'.repeat(500) }] }) as Resource)));
      const res = await post(withFhir(withoutPrefetch(orderSelect(), 'medications', 'conditions'))).expect(412);
      expect(issueText(res)).toMatch(/byte limit/);
    });
  });

  describe('paths the FHIR server could read differently are refused', () => {
    test.each(['https://fhir.example.org/r4/..%2fadmin', 'https://fhir.example.org/r4/%2e%2e/admin', 'https://fhir.example.org/r4/x%5cadmin', 'https://fhir.example.org/r4\\..\\admin', 'https://fhir.example.org/r4/%252fadmin'])(
      'fhirServer %s is not allow-listed: no request, 412',
      async (fhirServer) => {
        const res = await post({ ...withFhir(withoutPrefetch(orderSelect(), 'medications')), fhirServer }).expect(412);
        expect(issueText(res)).toMatch(/not on this service's allow-list/);
      },
    );

    test.each(['https://fhir.example.org/r4/..%2fadmin/MedicationStatement?page=2', 'https://fhir.example.org/r4/%2E%2E/admin?page=2', 'https://fhir.example.org/r4/MedicationStatement%2f..%2f..%2fadmin'])(
      'a next link %s is not followed (the token is not sent there)',
      async (next) => {
        fhir().get('/r4/MedicationStatement').query((q) => q.patient === 'p1').reply(200, searchset([statement('f1')], next));
        const res = await post(withFhir(withoutPrefetch(orderSelect(), 'medications'))).expect(412);
        expect(issueText(res)).toMatch(/next link/);
      },
    );

    test('a patientId that would make a read path escape is not requested', async () => {
      const body = withFhir({ ...patientView(), prefetch: { medications: null, medicationRequests: null, conditions: null } });
      (body.context as Record<string, unknown>).patientId = '..';
      await post(body).expect(200);
      expect(log.text()).toMatch(/dot segment/);
    });
  });

  test('a lone surrogate in context.patientId is a 400 naming it, even when data must be fetched', async () => {
    const body = withFhir(withoutPrefetch(orderSelect(), 'medications'));
    (body.context as Record<string, unknown>).patientId = 'p\uD800';
    const res = await post(body).expect(400);
    expect(res.body.issue[0].expression).toEqual(['context.patientId']);
  });

  test('a fetched search past CHART_MAX_RESOURCES is a 412 (too-costly)', async () => {
    fhir().get('/r4/MedicationStatement').query((q) => q.patient === 'p1').reply(200, searchset(Array.from({ length: 60 }, (_, i) => statement(`f${i}`))));
    const res = await post(withFhir(withoutPrefetch(orderSelect(), 'medications'))).expect(412);
    expect(res.body.issue[0].code).toBe('too-costly');
  });

  test('more resources than CHART_MAX_RESOURCES is a 412 (too-costly), never a partial answer', async () => {
    const res = await post(withPrefetch(orderSelect(), { medications: searchset(Array.from({ length: 60 }, (_, i) => statement(`s${i}`))) })).expect(412);
    expect(res.body.issue[0].code).toBe('too-costly');
    expect(issueText(res)).toMatch(/at most 50 per call \(CHART_MAX_RESOURCES\)/);
  });
});

/** A body nock sends as a stream (chunked: no Content-Length), in 1 KB chunks. */
class ReadableStreamLike extends (await import('node:stream')).Readable {
  private offset = 0;
  constructor(private readonly text: string) {
    super();
  }
  override _read(): void {
    if (this.offset >= this.text.length) {
      this.push(null);
      return;
    }
    this.push(this.text.slice(this.offset, this.offset + 1024));
    this.offset += 1024;
  }
}

describe('the deadline covers the whole gathering', () => {
  test('a gathering that overran REQUEST_DEADLINE_MS (here: a blocked event loop after the last fetch) is a 412, not a late answer', async () => {
    const config = testConfig({ ...ALLOW, REQUEST_DEADLINE_MS: '50' });
    const service = loadServices(SERVICES_DIR).find((s) => s.id === 'ldn-patient-view')!;
    const req = withFhir(withoutPrefetch(patientView(), 'medications')) as unknown as HookRequest;
    const fetchStub = async () => new Response(JSON.stringify(searchset([statement('f1')])), { status: 200, headers: { 'content-type': 'application/fhir+json' } });
    const block = () => {
      const until = performance.now() + 80;
      while (performance.now() < until) {
        /* a synchronous stall, as a huge parse would be */
      }
    };
    const promise = gatherChart(service, req, { config, logger: memoryLogger().logger, fetch: fetchStub as typeof fetch, onFhirRequest: block });
    await expect(promise).rejects.toMatchObject({ outcome: { status: 412 } });
    await expect(promise).rejects.toThrow(/within the 50 ms deadline/);
  });
});
