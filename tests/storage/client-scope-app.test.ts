/**
 * Client scope through the whole real app (issue 12 item 2): two trusted EHRs (JWT issuers) call the same
 * service for a patient with the same id. EHR X overrides its card with an acknowledging reason: X's next call
 * holds the card back, Y's still shows it; Y's feedback on X's card has no effect; each audit row names its issuer.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp, type AppHandle } from '../../src/app.js';
import { generateTestKey, jwksOf, signToken, validClaims, writeTrustedClients, type TestKey } from '../helpers/jwt.js';
import { patientView, testKnowledge } from '../helpers/app.js';
import { BACKENDS, openStorage, silentLogger, type TestDatabase } from './backends.js';
import { testConfig } from '../../src/config/index.js';

const BASE = 'https://cds.example.org';
const X = 'https://ehr-x.example.org';
const Y = 'https://ehr-y.example.org';
const SERVICE = 'ldn-patient-view';
const REASONS = 'http://ldn-cds.example.org/fhir/CodeSystem/override-reasons';

describe.each(BACKENDS)('client scope through the app on $name', (backend) => {
  let keys: Record<string, TestKey>;
  let trusted: string;
  let db: TestDatabase;
  let h: AppHandle;

  beforeAll(async () => {
    keys = { [X]: await generateTestKey('ES384', 'x'), [Y]: await generateTestKey('ES384', 'y') };
    trusted = await writeTrustedClients([{ iss: X, jwks: jwksOf(keys[X]!) }, { iss: Y, jwks: jwksOf(keys[Y]!) }]);
  });
  beforeEach(async () => {
    db = await backend.create();
    const config = testConfig({ ...db.env, AUTH_MODE: 'required', TRUSTED_CLIENTS: trusted, PUBLIC_BASE_URL: BASE });
    const knowledge = testKnowledge();
    h = await createApp(config, { knowledge, logger: silentLogger, storage: await openStorage(config, { reasons: knowledge.overrideReasons }) });
  });
  afterEach(async () => {
    await h?.close();
    await h?.storage.close();
    await db?.drop();
  });

  const token = (iss: string, path: string) => signToken(keys[iss]!, validClaims({ iss, aud: `${BASE}${path}`, nowMs: Date.now() }));
  async function cards(iss: string): Promise<string[]> {
    const path = `/cds-services/${SERVICE}`;
    const res = await request(h.app).post(path).set('Authorization', `Bearer ${await token(iss, path)}`).send(patientView());
    expect(res.status).toBe(200);
    return (res.body.cards as Array<{ uuid: string }>).map((c) => c.uuid);
  }
  async function override(iss: string, card: string): Promise<void> {
    const path = `/cds-services/${SERVICE}/feedback`;
    const res = await request(h.app)
      .post(path)
      .set('Authorization', `Bearer ${await token(iss, path)}`)
      .send({ feedback: [{ card, outcome: 'overridden', overrideReason: { reason: { system: REASONS, code: 'will-monitor' } }, outcomeTimestamp: new Date().toISOString() }] });
    expect(res.status).toBe(200);
  }

  it("an override by one EHR holds back its own card only, and another EHR's feedback on it has no effect", async () => {
    const [cardX] = await cards(X);
    const [cardY] = await cards(Y);
    expect(cardX).toBeDefined();
    expect(cardY).toBeDefined();

    await override(Y, cardX!); // another client's card: stored without effect
    expect(await cards(X)).toHaveLength(1);

    await override(X, cardX!);
    expect(await cards(X)).toHaveLength(0);
    expect(await cards(Y)).toHaveLength(1);

    const rows = await db.query<{ card_uuid: string; client_issuer: string }>('select card_uuid, client_issuer from card_audit');
    const issuerOf = new Map(rows.map((r) => [r.card_uuid, r.client_issuer]));
    expect(issuerOf.get(cardX!)).toBe(X);
    expect(issuerOf.get(cardY!)).toBe(Y);
    const suppressions = await db.query<{ client_issuer: string }>('select client_issuer from suppression');
    expect(suppressions).toEqual([{ client_issuer: X }]);
  });
});
