/**
 * Secrets hygiene through the whole real app (issue 4 acceptance): a signed hook call whose data must be fetched
 * from the FHIR server with an access token, run with trace-level logs, then a failing one (FHIR 500 → 412).
 * Neither the JWT, nor the FHIR access token, nor the raw patient id may appear in any log line or answer body;
 * the patient appears only as its keyed hash.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import nock from 'nock';
import request from 'supertest';
import { createApp, type AppHandle } from '../../src/app.js';
import { testConfig } from '../../src/config/index.js';
import { patientHash } from '../../src/observability/logger.js';
import { captureLogs, generateTestKey, jwksOf, signToken, validClaims, writeTrustedClients, type LogCapture, type TestKey } from '../helpers/jwt.js';
import { forPatient, orderSelect, searchset, statement } from '../helpers/app.js';

const BASE = 'https://cds.example.org';
const ISS = 'https://ehr.example.org';
const FHIR = 'https://fhir.hospital.example.org/r4';
const PATIENT = 'RAW-PATIENT-ID-8841';
const ACCESS_TOKEN = 'fhir-access-token-Zq81xLk0';
const KEY = 'test-hash-key';

describe('no secrets and no raw patient ids in logs, through the whole app', () => {
  let key: TestKey;
  let logs: LogCapture;
  let h: AppHandle;
  const now = Date.now();
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    key = await generateTestKey('RS384', 'hygiene');
    logs = captureLogs('trace');
    const config = testConfig({
      LOG_LEVEL: 'trace',
      AUTH_MODE: 'required',
      TRUSTED_CLIENTS: await writeTrustedClients([{ iss: ISS, jwks: jwksOf(key) }]),
      PUBLIC_BASE_URL: BASE,
      FHIR_SERVER_ALLOWLIST: FHIR,
      PATIENT_ID_HASH_KEY: KEY,
    });
    h = await createApp(config, { logger: logs.logger });
  });
  afterAll(async () => {
    await h.close();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  function call(token: string) {
    const body = forPatient(
      orderSelect({
        fhirServer: FHIR,
        fhirAuthorization: { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'ldn-cds' },
      }),
      PATIENT,
    );
    delete (body.prefetch as Record<string, unknown>).medications;
    return request(h.app).post('/cds-services/ldn-order-check').set('Authorization', `Bearer ${token}`).send(body);
  }

  test('a successful fetch-backed call and a failing one leave no token or raw id behind', async () => {
    nock('https://fhir.hospital.example.org', { reqheaders: { authorization: `Bearer ${ACCESS_TOKEN}` } })
      .get('/r4/MedicationStatement')
      .query({ patient: PATIENT, status: 'active,intended,on-hold,unknown,completed,stopped' })
      .reply(200, searchset([statement('s1', { subject: { reference: `Patient/${PATIENT}` } })]));
    const ok = await signToken(key, validClaims({ iss: ISS, aud: `${BASE}/cds-services/ldn-order-check`, nowMs: now }));
    const good = await call(ok);
    expect(good.status).toBe(200);

    nock('https://fhir.hospital.example.org').get('/r4/MedicationStatement').query(true).reply(500, `error for ${PATIENT} with ${ACCESS_TOKEN}`);
    const second = await signToken(key, validClaims({ iss: ISS, aud: `${BASE}/cds-services/ldn-order-check`, nowMs: now }));
    const failed = await call(second);
    expect(failed.status).toBe(412);

    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    for (const secret of [ok, second, ok.split('.')[2]!, ACCESS_TOKEN, PATIENT]) {
      expect(text).not.toContain(secret);
      expect(JSON.stringify(good.body)).not.toContain(secret);
      expect(JSON.stringify(failed.body)).not.toContain(secret);
    }
    // The request line carries the keyed hash instead, so operators can still correlate.
    expect(text).toContain(patientHash(KEY, PATIENT));
  });
});
