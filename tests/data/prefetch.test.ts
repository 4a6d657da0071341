/**
 * Prefetch and FHIR access (spec §3/§4; test cases 7–12): the decision table for each prefetch key,
 * parallel self-fetch with the bearer token, paging, one deadline, and 412 when data cannot be had.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import nock from 'nock';
import request from 'supertest';
import type { AppHandle } from '../../src/app.js';
import { suppliedByRequest, type GatherReport, type KeySource } from '../../src/data/gather.js';
import { FHIR, FHIR_TOKEN, condition, memoryLogger, orderSelect, patientView, searchset, statement, testApp, withFhir } from '../helpers/app.js';
import { fhirMock, guardFhirMocks, postHook, withoutPrefetch } from '../helpers/fhir-mock.js';

const TOKEN = FHIR_TOKEN;
const ALLOW = { FHIR_SERVER_ALLOWLIST: FHIR };
/** The shipped templates narrow medications by status (cds-services/services/*.yaml). */
const STATEMENTS = { patient: 'p1', status: 'active,intended,on-hold,unknown,completed,stopped' };

const fhir = () => fhirMock();

describe('prefetch and FHIR access', () => {
  guardFhirMocks();
  let h: AppHandle;
  beforeAll(async () => {
    h = await testApp(ALLOW);
  });
  afterAll(() => h.close());
  const post = (body: unknown, app = h) => postHook(app, body);

  test('uses complete prefetch and makes no FHIR call', async () => {
    const res = await post(withFhir(orderSelect())).expect(200);
    expect(res.body.cards[0].summary).toBe('1 medications, 1 conditions');
  });

  test('answers 412 naming the missing key when there is no FHIR access (case 7)', async () => {
    const res = await post(withoutPrefetch(orderSelect(), 'medications')).expect(412);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe('incomplete');
    expect(res.body.issue[0].details.text).toMatch(/prefetch key "medications".*no fhirServer/);
    expect(res.body.issue[0].expression).toEqual(['prefetch.medications']);
  });

  test('names every unobtainable key in one 412', async () => {
    const res = await post(withoutPrefetch(orderSelect(), 'medications', 'conditions')).expect(412);
    const text = res.body.issue.map((i: { details: { text: string } }) => i.details.text).join('\n');
    expect(text).toMatch(/"medications"/);
    expect(text).toMatch(/"conditions"/);
  });

  test('proceeds without an optional key (patient) when it cannot be had', async () => {
    await post(withoutPrefetch(orderSelect(), 'patient')).expect(200);
  });

  test('fetches absent keys from fhirServer with the bearer token, in parallel, and uses the result (case 8)', async () => {
    // Parallel, shown without timing: no request is answered until all three have arrived. Sequential fetching
    // would leave the first one waiting for the others, which never come (the barrier then gives up, recorded).
    let arrived = 0;
    let sequential = false;
    let release!: () => void;
    const allArrived = new Promise<void>((resolve) => (release = resolve));
    const barrier = <T>(body: T) => async (): Promise<[number, T]> => {
      if (++arrived === 3) release();
      const timer = new Promise<void>((resolve) => setTimeout(() => ((sequential = true), resolve()), 1500));
      await Promise.race([allArrived, timer]);
      return [200, body];
    };
    fhir().get('/r4/MedicationStatement').query({ ...STATEMENTS }).reply(barrier(searchset([statement('f1'), statement('f2')])));
    fhir().get('/r4/Condition').query({ patient: 'p1' }).reply(barrier(searchset([])));
    fhir().get('/r4/Patient/p1').reply(barrier({ resourceType: 'Patient', id: 'p1' }));
    const res = await post(withFhir({ ...withoutPrefetch(orderSelect(), 'medications', 'conditions', 'patient') }), h).expect(200);
    expect(sequential, 'the three fetches were in flight together').toBe(false);
    expect(res.body.cards[0].summary).toBe('2 medications, 0 conditions');
  });

  test('a resent call that needed a fetch fetches again (the FHIR data may have changed since), never answered by its bytes', async () => {
    fhir().get('/r4/MedicationStatement').query({ ...STATEMENTS }).reply(200, searchset([statement('f1')]));
    fhir().get('/r4/MedicationStatement').query({ ...STATEMENTS }).reply(200, searchset([statement('f1'), statement('f2')]));
    const body = withFhir(withoutPrefetch(orderSelect(), 'medications'));
    const first = await post(body).expect(200);
    expect(first.body.cards[0].summary).toBe('1 medications, 1 conditions');
    const second = await post({ ...body, hookInstance: 'the-same-call-again' }).expect(200);
    expect(second.body.cards[0].summary).toBe('2 medications, 1 conditions');
  });

  test('URL-encodes context values into templates so they cannot change the query', async () => {
    const body = withFhir({ ...patientView(), prefetch: { patient: null, medicationRequests: null, conditions: null } });
    (body.context as Record<string, unknown>).patientId = 'p1&_include=*';
    fhir().get('/r4/MedicationStatement').query({ ...STATEMENTS, patient: 'p1&_include=*' }).reply(200, searchset([]));
    await post(body).expect(200);
  });

  test.each([
    ['401', () => fhir().get('/r4/MedicationStatement').query(true).reply(401, { resourceType: 'OperationOutcome', issue: [] }), /HTTP 401/],
    ['500', () => fhir().get('/r4/MedicationStatement').query(true).reply(500, 'boom'), /HTTP 500/],
    ['a malformed Bundle', () => fhir().get('/r4/MedicationStatement').query(true).reply(200, { resourceType: 'Bundle', entry: 'nope' }), /not an array/],
    ['not JSON', () => fhir().get('/r4/MedicationStatement').query(true).reply(200, '<html>', { 'content-type': 'text/html' }), /not JSON/],
    ['a redirect', () => fhir().get('/r4/MedicationStatement').query(true).reply(302, '', { location: 'https://evil.example.com/steal' }), /redirect/],
  ])('answers 412, not 500, when the FHIR server answers %s (case 9)', async (_name, mock, message) => {
    mock();
    const res = await post(withFhir(withoutPrefetch(orderSelect(), 'medications'))).expect(412);
    expect(res.body.issue[0].details.text).toMatch(message);
    expect(JSON.stringify(res.body)).not.toContain(TOKEN);
  });

  test('answers 412 within the deadline when the FHIR server hangs (case 9)', async () => {
    const fast = await testApp({ ...ALLOW, REQUEST_DEADLINE_MS: '200' });
    fhir().get('/r4/MedicationStatement').query(true).delay(3000).reply(200, searchset([]));
    // The mock answers only after 3 s: a 412 naming the deadline shows the 200 ms deadline ended the wait.
    const res = await post(withFhir(withoutPrefetch(orderSelect(), 'medications')), fast).expect(412);
    expect(res.body.issue[0].details.text).toMatch(/deadline/);
    await fast.close();
    nock.abortPendingRequests();
  });

  test('treats a null prefetch value as "no data": no fetch, 200 (case 10)', async () => {
    const body = withFhir(orderSelect());
    (body.prefetch as Record<string, unknown>).medications = null;
    const res = await post(body).expect(200);
    expect(res.body.cards[0].summary).toBe('0 medications, 1 conditions');
  });

  test('re-fetches a key the client answered with an OperationOutcome (case 11)', async () => {
    const body = withFhir(orderSelect());
    (body.prefetch as Record<string, unknown>).medications = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] };
    fhir().get('/r4/MedicationStatement').query({ ...STATEMENTS }).reply(200, searchset([statement('x1')]));
    const res = await post(body).expect(200);
    expect(res.body.cards[0].detail).toMatch(/MedicationStatement\/x1/);
  });

  test('re-fetches when a prefetch Bundle holds an error OperationOutcome, but not for a warning one (case 11)', async () => {
    const withError = withFhir(orderSelect());
    (withError.prefetch as Record<string, unknown>).medications = searchset([statement('s9'), { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] } as never]);
    fhir().get('/r4/MedicationStatement').query({ ...STATEMENTS }).reply(200, searchset([statement('x1')]));
    await post(withError).expect(200);

    const withWarning = withFhir(orderSelect());
    (withWarning.prefetch as Record<string, unknown>).medications = searchset([statement('s9'), { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'informational' }] } as never]);
    const res = await post(withWarning).expect(200);
    expect(res.body.cards[0].detail).toMatch(/MedicationStatement\/s9/);
  });

  test('answers 412 for an OperationOutcome prefetch when it cannot re-fetch (case 11)', async () => {
    const body = orderSelect();
    (body.prefetch as Record<string, unknown>).conditions = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] };
    const res = await post(body).expect(412);
    expect(res.body.issue[0].details.text).toMatch(/OperationOutcome/);
  });

  test('treats a non-resource prefetch value (e.g. a bare string) as unusable', async () => {
    const body = orderSelect();
    (body.prefetch as Record<string, unknown>).conditions = '123';
    await post(body).expect(412);
  });

  test('follows next links of a paged prefetch with the bearer token (case 12)', async () => {
    const body = withFhir(orderSelect());
    (body.prefetch as Record<string, unknown>).medications = searchset([statement('p-a')], `${FHIR}/MedicationStatement?patient=p1&_page=2`);
    fhir().get('/r4/MedicationStatement').query({ patient: 'p1', _page: '2' }).reply(200, searchset([statement('p-b')], `${FHIR}/MedicationStatement?patient=p1&_page=3`));
    fhir().get('/r4/MedicationStatement').query({ patient: 'p1', _page: '3' }).reply(200, searchset([statement('p-c')]));
    const res = await post(body).expect(200);
    expect(res.body.cards[0].summary).toBe('3 medications, 1 conditions');
  });

  test('follows next links of a self-fetched search, bounded by FHIR_MAX_PAGES', async () => {
    const bounded = await testApp({ ...ALLOW, FHIR_MAX_PAGES: '2' });
    fhir().get('/r4/MedicationStatement').query({ ...STATEMENTS }).reply(200, searchset([statement('a')], `${FHIR}/MedicationStatement?page=2`));
    fhir().get('/r4/MedicationStatement').query({ page: '2' }).reply(200, searchset([statement('b')], `${FHIR}/MedicationStatement?page=3`));
    const res = await post(withFhir(withoutPrefetch(orderSelect(), 'medications')), bounded).expect(412);
    expect(res.body.issue[0].details.text).toMatch(/more than 2 pages/);
    await bounded.close();
  });

  test('does not follow a next link to another origin, and sends that origin nothing', async () => {
    const other = nock('https://elsewhere.example.net').get(/.*/).reply(200, searchset([]));
    const body = withFhir(orderSelect());
    (body.prefetch as Record<string, unknown>).medications = searchset([statement('p-a')], 'https://elsewhere.example.net/fhir/MedicationStatement?page=2');
    const res = await post(body).expect(412);
    expect(res.body.issue[0].details.text).toMatch(/leaves the FHIR server/);
    expect(other.isDone()).toBe(false);
    nock.cleanAll();
  });

  test('answers 412 for a paged prefetch when the next page cannot be fetched (no FHIR access)', async () => {
    const body = orderSelect();
    (body.prefetch as Record<string, unknown>).medications = searchset([statement('p-a')], `${FHIR}/MedicationStatement?page=2`);
    const res = await post(body).expect(412);
    expect(res.body.issue[0].details.text).toMatch(/paginated/);
  });

  test('never calls a fhirServer that is not allow-listed: 412 and no request', async () => {
    const open = await testApp({ FHIR_SERVER_ALLOWLIST: 'https://fhir.example.org/other' });
    const spy = nock('https://fhir.example.org').get(/.*/).reply(200, searchset([]));
    const res = await post(withFhir(withoutPrefetch(orderSelect(), 'medications')), open).expect(412);
    expect(res.body.issue[0].details.text).toMatch(/allow-list/);
    expect(spy.isDone()).toBe(false);
    nock.cleanAll();
    await open.close();
  });

  test('fetches unauthenticated only when FHIR_UNAUTHENTICATED_FETCH is on (the sandbox sends no fhirAuthorization)', async () => {
    const body = { ...withoutPrefetch(orderSelect(), 'medications'), fhirServer: FHIR };
    await post(body).expect(412);
    const unauth = await testApp({ ...ALLOW, FHIR_UNAUTHENTICATED_FETCH: 'true' });
    nock('https://fhir.example.org', { badheaders: ['authorization'] }).get('/r4/MedicationStatement').query({ ...STATEMENTS }).reply(200, searchset([]));
    await post(body, unauth).expect(200);
    await unauth.close();
  });

  test('fetches a medicationReference that is neither contained nor bundled', async () => {
    const body = withFhir(orderSelect());
    (body.prefetch as Record<string, unknown>).medications = searchset([statement('r1', { medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/med-9' } })]);
    fhir().get('/r4/Medication/med-9').reply(200, { resourceType: 'Medication', id: 'med-9', code: { text: 'Naltrexone 4.5 mg capsule' } });
    await post(body).expect(200);
  });

  test('does not fetch a medicationReference found in the prefetch Bundle or contained', async () => {
    const body = withFhir(orderSelect());
    (body.prefetch as Record<string, unknown>).medications = searchset([
      statement('r1', { medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/med-9' } }),
      { resourceType: 'Medication', id: 'med-9', code: { text: 'x' } } as never,
      statement('r2', { medicationCodeableConcept: undefined, medicationReference: { reference: '#m' }, contained: [{ resourceType: 'Medication', id: 'm' }] }),
    ]);
    await post(body).expect(200);
  });

  test('answers 412 for an unresolvable medicationReference without FHIR access', async () => {
    const body = orderSelect();
    (body.prefetch as Record<string, unknown>).medications = searchset([statement('r1', { medicationReference: { reference: 'Medication/med-9' } })]);
    const res = await post(body).expect(412);
    expect(res.body.issue[0].details.text).toMatch(/Medication\/med-9/);
  });

  test('serves both hooks of one id from the same service definition (case 14)', async () => {
    await post(orderSelect()).expect(200);
    const sign = orderSelect({ hook: 'order-sign' });
    delete (sign.context as Record<string, unknown>).selections;
    const res = await request(h.app).post('/cds-services/ldn-order-check').send(sign).expect(200);
    expect(res.body.cards).toHaveLength(1);
  });

  test('Condition data flows from a fetched key to the rules', async () => {
    fhir().get('/r4/Condition').query({ patient: 'p1' }).reply(200, searchset([condition('k1'), condition('k2')]));
    const res = await post(withFhir(withoutPrefetch(orderSelect(), 'conditions'))).expect(200);
    expect(res.body.cards[0].summary).toBe('1 medications, 2 conditions');
  });
});

describe('allow-list logging', () => {
  test('a non-allow-listed fhirServer is logged only when data had to be fetched from it', async () => {
    const mem = memoryLogger('info');
    const h = await testApp({ FHIR_SERVER_ALLOWLIST: 'https://other.example.org/fhir' }, { logger: mem.logger });
    await request(h.app).post('/cds-services/ldn-order-check').send(withFhir(orderSelect())).expect(200);
    expect(mem.text()).not.toMatch(/FHIR_SERVER_ALLOWLIST/);
    const body = withFhir(orderSelect());
    delete (body.prefetch as Record<string, unknown>).medications;
    await request(h.app).post('/cds-services/ldn-order-check').send(body).expect(412);
    expect(mem.text()).toMatch(/"fhirServerOrigin":"https:\/\/fhir\.example\.org".*FHIR_SERVER_ALLOWLIST/);
    await h.close();
  });
});

describe('suppliedByRequest: when the body alone decided the chart', () => {
  const report = (sources: KeySource[], fetched = 0): GatherReport => ({ keys: Object.fromEntries(sources.map((source, i) => [`k${i}`, { source }])), medicationReferencesFetched: fetched });
  test.each([
    [['prefetch', 'prefetch-null'], 0, true],
    [[], 0, true],
    [['prefetch', 'fetched'], 0, false],
    [['prefetch', 'prefetch-paged'], 0, false],
    [['prefetch', 'unavailable'], 0, false], // with FHIR access the same body would have fetched it
    [['prefetch'], 1, false],
  ] as [KeySource[], number, boolean][])('%j with %i medication references fetched → %s', (sources, fetched, expected) => {
    expect(suppliedByRequest(report(sources, fetched))).toBe(expected);
  });
});
