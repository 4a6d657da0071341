/**
 * GET /openapi.json (issue 7): an OpenAPI 3.1 document whose declared responses are checked against what the app
 * REALLY answers (ajv, JSON Schema 2020-12): discovery, a hook call with cards, every OperationOutcome status,
 * feedback, health, metrics, admin analytics, the evidence pages. The request fixture validates against HookRequest,
 * and the Card and Discovery schemas agree with the zod schemas the service itself uses (src/cards/schema.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp, type AppHandle } from '../../src/app.js';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { CardSchema, DiscoverySchema } from '../../src/cards/schema.js';

const BASE = 'https://cds.example.org';
const ADMIN = 'admin-token-for-openapi-tests';
const SPEC = 'urn:ldn-cds:openapi';
const FIXTURE = path.join(PROJECT_ROOT, 'fixtures/requests/order-select-ldn-oxycodone.json');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
/** OpenAPI's own top-level fields: known to ajv as keywords without meaning, so the document can be added whole. */
const OPENAPI_FIELDS = ['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks', 'components', 'security', 'tags', 'externalDocs'];

// ajv-formats is CommonJS: under NodeNext its default export may arrive wrapped.
const addFormats = ((addFormatsPlugin as unknown as { default?: typeof addFormatsPlugin }).default ?? addFormatsPlugin) as unknown as (ajv: Ajv2020) => Ajv2020;

type Json = Record<string, unknown>;
/** A JSON body reshaped by a test mutation, reached through any path. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
type Operation = { operationId?: string; parameters?: Json[]; responses: Record<string, { description?: string; content?: Record<string, { schema?: Json }> }>; security?: unknown[] };

const fixture = (): Json => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Json;
const config = (env: NodeJS.ProcessEnv = {}) => testConfig({ PLAYGROUND: 'off', PUBLIC_BASE_URL: BASE, ADMIN_TOKEN: ADMIN, ...env });
const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

let h: AppHandle;
let doc: Json & { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> } };
let ajv: Ajv2020;

beforeAll(async () => {
  h = await createApp(config());
  const res = await request(h.app).get('/openapi.json').expect(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  doc = res.body;
  ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormats(ajv);
  ajv.addVocabulary(OPENAPI_FIELDS);
  ajv.addSchema({ ...doc, $id: SPEC });
});
afterAll(() => h.close());

function schemaValidator(pointer: string): ValidateFunction {
  const validate = ajv.getSchema(`${SPEC}#${pointer}`);
  if (!validate) throw new Error(`no schema at ${pointer}`);
  return validate;
}
const component = (name: string): ValidateFunction => schemaValidator(`/components/schemas/${name}`);

function operation(apiPath: string, method: string): Operation {
  const op = doc.paths[apiPath]?.[method] as Operation | undefined;
  if (!op) throw new Error(`${method.toUpperCase()} ${apiPath} is not in the document`);
  return op;
}

/**
 * The response's status is declared for the operation, its media type is one the declaration lists, and its body
 * validates against the declared schema.
 */
function expectDeclared(res: request.Response, apiPath: string, method: string): void {
  const where = `${method.toUpperCase()} ${apiPath} → ${res.status}`;
  const declared = operation(apiPath, method).responses[String(res.status)];
  expect(declared, `${where} is not declared (${res.text.slice(0, 300)})`).toBeDefined();
  if (!declared!.content) {
    expect(res.text ?? '', where).toBe('');
    return;
  }
  const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
  expect(Object.keys(declared!.content), where).toContain(mediaType);
  const validate = schemaValidator(`/paths/${escapePointer(apiPath)}/${method}/responses/${res.status}/content/${escapePointer(mediaType)}/schema`);
  const body = mediaType === 'application/json' ? res.body : res.text;
  expect(validate(body), `${where}: ${JSON.stringify(validate.errors)}`).toBe(true);
}

/** A minimal OpenAPI 3.1 shape (the official meta-schema is not available offline). */
const OPENAPI_SHAPE = {
  type: 'object',
  required: ['openapi', 'info', 'paths', 'components'],
  properties: {
    openapi: { const: '3.1.0' },
    info: { type: 'object', required: ['title', 'version'], properties: { title: { type: 'string', minLength: 1 }, version: { type: 'string', minLength: 1 } } },
    servers: { type: 'array', minItems: 1, items: { type: 'object', required: ['url'], properties: { url: { type: 'string', format: 'uri' } } } },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: {
        type: 'object',
        propertyNames: { enum: ['summary', 'description', 'parameters', ...METHODS] },
        properties: Object.fromEntries(
          METHODS.map((m) => [
            m,
            {
              type: 'object',
              required: ['responses'],
              properties: {
                operationId: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]*$' },
                responses: {
                  type: 'object',
                  minProperties: 1,
                  propertyNames: { pattern: '^([1-5][0-9X]{2}|default)$' },
                  additionalProperties: { type: 'object', required: ['description'] },
                },
                parameters: { type: 'array', items: { type: 'object', required: ['name', 'in'], properties: { in: { enum: ['path', 'query', 'header', 'cookie'] } } } },
              },
            },
          ]),
        ),
      },
    },
    components: {
      type: 'object',
      properties: {
        schemas: { type: 'object', additionalProperties: { type: 'object' } },
        securitySchemes: { type: 'object', additionalProperties: { type: 'object', required: ['type'] } },
      },
    },
  },
};

describe('the document', () => {
  test('is OpenAPI 3.1.0 in shape, with the public base URL as its server', () => {
    const shape = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    addFormats(shape);
    const validate = shape.compile(OPENAPI_SHAPE);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: BASE, description: 'PUBLIC_BASE_URL' }]);
    expect((doc.info as Json).version).toBe(JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).version);
  });

  test('documents every public endpoint', () => {
    const operations = Object.entries(doc.paths).flatMap(([p, item]) => METHODS.filter((m) => m in item).map((m) => `${m.toUpperCase()} ${p}`));
    expect(operations.sort()).toEqual(
      [
        'GET /cds-services',
        'OPTIONS /cds-services',
        'POST /cds-services/{id}',
        'OPTIONS /cds-services/{id}',
        'POST /cds-services/{id}/feedback',
        'OPTIONS /cds-services/{id}/feedback',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'GET /admin/analytics',
        'GET /evidence',
        'GET /evidence/{ruleId}',
        'GET /openapi.json',
      ].sort(),
    );
  });

  test('has the component schemas, each a valid JSON Schema 2020-12, and every $ref resolves', () => {
    for (const name of ['HookRequest', 'Card', 'Suggestion', 'Action', 'Link', 'Coding', 'Source', 'CdsResponse', 'Discovery', 'Feedback', 'FeedbackRequest', 'OperationOutcome']) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
    for (const name of Object.keys(doc.components.schemas)) expect(() => component(name), name).not.toThrow();
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of new Set(refs)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas, ref).toHaveProperty(ref.split('/').pop()!);
    }
  });

  test('operation ids are unique and every path template parameter is declared', () => {
    const ids: string[] = [];
    for (const [p, item] of Object.entries(doc.paths)) {
      const templated = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const method of METHODS.filter((m) => m in item)) {
        const op = item[method] as Operation;
        if (op.operationId) ids.push(op.operationId);
        const declared = [...((item.parameters as Json[]) ?? []), ...(op.parameters ?? [])].filter((x) => x.in === 'path').map((x) => x.name);
        expect(declared.sort(), `${method} ${p}`).toEqual([...templated].sort());
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('the CDS client JWT is a bearer JWT with the spec\'s claims; CDS calls require it, preflights and pages do not', () => {
    const jwt = doc.components.securitySchemes.cdsClientJwt!;
    expect(jwt).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const claim of ['iss', 'aud', 'exp', 'iat', 'jti', 'tenant', 'kid', 'jku']) expect(jwt.description).toContain(`\`${claim}\``);
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(operation('/cds-services', 'get').security).toEqual([{ cdsClientJwt: [] }]);
    expect(operation('/cds-services/{id}', 'post').security).toEqual([{ cdsClientJwt: [] }]);
    expect(operation('/cds-services/{id}/feedback', 'post').security).toEqual([{ cdsClientJwt: [] }]);
    expect(operation('/cds-services/{id}', 'options').security).toEqual([]);
    expect(operation('/evidence/{ruleId}', 'get').security).toEqual([]);
    expect(operation('/admin/analytics', 'get').security).toEqual([{ adminToken: [] }]);
  });

  test('the service call declares 400/401/404/412/413/415/503 with OperationOutcome bodies', () => {
    const responses = operation('/cds-services/{id}', 'post').responses;
    for (const status of ['400', '401', '404', '412', '413', '415', '503']) {
      expect(responses[status]?.content?.['application/json']?.schema, status).toEqual({ $ref: '#/components/schemas/OperationOutcome' });
    }
  });
});

describe('real responses match the declared ones', () => {
  const call = (body: unknown, id = 'ldn-order-check') => request(h.app).post(`/cds-services/${id}`).send(body as object);

  test('discovery 200', async () => {
    const res = await request(h.app).get('/cds-services').expect(200);
    expect(res.body.services.length).toBeGreaterThan(1);
    expectDeclared(res, '/cds-services', 'get');
  });

  test('a hook call 200 with cards, suggestions, actions, override reasons and links', async () => {
    const res = await call(fixture()).expect(200);
    const cards = res.body.cards as Json[];
    expect(cards.length).toBeGreaterThan(1);
    expect(cards.some((c) => Array.isArray(c.suggestions) && Array.isArray(c.overrideReasons) && Array.isArray(c.links))).toBe(true);
    expectDeclared(res, '/cds-services/{id}', 'post');
  });

  test('{"cards": []} when nothing applies', async () => {
    const body = fixture();
    const prefetch = body.prefetch as Json;
    for (const key of ['medications', 'medicationRequests', 'conditions']) prefetch[key] = { resourceType: 'Bundle', type: 'searchset', entry: [] };
    const ctx = body.context as { draftOrders: { entry: { resource: Json }[] } };
    ctx.draftOrders.entry = [{ resource: { resourceType: 'MedicationRequest', id: 'ldn-draft-1', status: 'draft', intent: 'order', subject: { reference: 'Patient/ldn-demo-1' }, medicationCodeableConcept: { text: 'metformin 500 mg tablet' } } }];
    const res = await call(body).expect(200);
    expect(res.body).toEqual({ cards: [] });
    expectDeclared(res, '/cds-services/{id}', 'post');
  });

  test('a hook call 200 that held a card back carries the declared extension', async () => {
    const first = await call(fixture()).expect(200);
    const warning = (first.body.cards as { uuid: string; indicator: string; overrideReasons?: { code: string }[] }[]).find((c) => c.indicator === 'warning' && c.overrideReasons?.some((r) => r.code === 'will-monitor'))!;
    const reason = warning.overrideReasons!.find((r) => r.code === 'will-monitor');
    await request(h.app).post('/cds-services/ldn-order-check/feedback').send({ feedback: [{ card: warning.uuid, outcome: 'overridden', overrideReason: { reason }, outcomeTimestamp: new Date().toISOString() }] }).expect(200);
    const res = await call({ ...fixture(), hookInstance: '7f1c2f4e-1d6b-4b7e-9a39-4d0c8f5b2a11' }).expect(200);
    expect(res.body.extension).toEqual({ 'ldn-cds.suppressed': 1 });
    expectDeclared(res, '/cds-services/{id}', 'post');
  });

  test('400, 404, 412, 413 and 415 are OperationOutcomes', async () => {
    const { hookInstance: _drop, ...noInstance } = fixture();
    const bad = await call(noInstance).expect(400);
    expect(bad.body.issue[0].expression).toEqual(['hookInstance']);
    expectDeclared(bad, '/cds-services/{id}', 'post');

    expectDeclared(await call(fixture(), 'no-such-service').expect(404), '/cds-services/{id}', 'post');

    const { prefetch: _none, ...noPrefetch } = fixture();
    const missing = await call(noPrefetch).expect(412);
    expect(missing.body.issue.every((i: { code: string }) => i.code === 'incomplete')).toBe(true);
    expectDeclared(missing, '/cds-services/{id}', 'post');

    expectDeclared(await request(h.app).post('/cds-services/ldn-order-check').set('Content-Type', 'text/plain').send('hello').expect(415), '/cds-services/{id}', 'post');

    const small = await createApp(config({ BODY_LIMIT: '1kb' }));
    try {
      expectDeclared(await request(small.app).post('/cds-services/ldn-order-check').send(fixture()).expect(413), '/cds-services/{id}', 'post');
    } finally {
      await small.close();
    }
  });

  test('401 without a CDS client JWT (AUTH_MODE=required), on discovery, service calls and feedback', async () => {
    const secured = await createApp(config({ AUTH_MODE: 'required' }));
    try {
      expectDeclared(await request(secured.app).get('/cds-services').expect(401), '/cds-services', 'get');
      expectDeclared(await request(secured.app).post('/cds-services/ldn-order-check').send(fixture()).expect(401), '/cds-services/{id}', 'post');
      expectDeclared(await request(secured.app).post('/cds-services/ldn-order-check/feedback').send({ feedback: [] }).expect(401), '/cds-services/{id}/feedback', 'post');
      // Preflights need no token.
      expectDeclared(await request(secured.app).options('/cds-services/ldn-order-check').set('Origin', 'https://ehr.example.org').expect(204), '/cds-services/{id}', 'options');
    } finally {
      await secured.close();
    }
  });

  test('feedback 200 {}, 400 and 404', async () => {
    const shown = await call(fixture()).expect(200);
    const card = shown.body.cards.find((c: { overrideReasons?: unknown[] }) => c.overrideReasons) as { uuid: string; overrideReasons: { system: string; code: string }[] };
    const feedback = { feedback: [{ card: card.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-21T09:00:05Z', overrideReason: { reason: card.overrideReasons[0], userComment: 'reviewed' } }] };
    expect(component('FeedbackRequest')(feedback)).toBe(true);
    const ok = await request(h.app).post('/cds-services/ldn-order-check/feedback').send(feedback).expect(200);
    expect(ok.body).toEqual({});
    expectDeclared(ok, '/cds-services/{id}/feedback', 'post');

    const invalid = { feedback: [{ card: card.uuid, outcome: 'accepted', outcomeTimestamp: 'yesterday' }] };
    expect(component('FeedbackRequest')(invalid)).toBe(false);
    expectDeclared(await request(h.app).post('/cds-services/ldn-order-check/feedback').send(invalid).expect(400), '/cds-services/{id}/feedback', 'post');
    expectDeclared(await request(h.app).post('/cds-services/nope/feedback').send(feedback).expect(404), '/cds-services/{id}/feedback', 'post');
  });

  test('CORS preflights: 204 without a body', async () => {
    for (const p of ['/cds-services', '/cds-services/{id}', '/cds-services/{id}/feedback']) {
      const res = await request(h.app).options(p.replace('{id}', 'ldn-order-check')).set('Origin', 'https://ehr.example.org').set('Access-Control-Request-Method', 'POST').expect(204);
      expect(res.headers['access-control-allow-methods']).toContain('POST');
      expectDeclared(res, p, 'options');
    }
  });

  test('healthz, readyz and metrics', async () => {
    expectDeclared(await request(h.app).get('/healthz').expect(200), '/healthz', 'get');
    const ready = await request(h.app).get('/readyz');
    expect(ready.body.checks.length).toBeGreaterThan(0);
    expectDeclared(ready, '/readyz', 'get');
    const metrics = await request(h.app).get('/metrics').expect(200);
    expect(metrics.text).toContain('# HELP');
    expectDeclared(metrics, '/metrics', 'get');
  });

  test('admin analytics with ADMIN_TOKEN: 200; 401 without it; 400 for a bad range', async () => {
    const ok = await request(h.app).get('/admin/analytics?from=2026-01-01').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expectDeclared(ok, '/admin/analytics', 'get');
    expectDeclared(await request(h.app).get('/admin/analytics').set('Authorization', 'Bearer wrong').expect(401), '/admin/analytics', 'get');
    expectDeclared(await request(h.app).get('/admin/analytics?from=not-a-date').set('Authorization', `Bearer ${ADMIN}`).expect(400), '/admin/analytics', 'get');
  });

  test('evidence pages (HTML) and this document', async () => {
    expectDeclared(await request(h.app).get('/evidence').expect(200), '/evidence', 'get');
    expectDeclared(await request(h.app).get('/evidence/ldn-with-opioid').expect(200), '/evidence/{ruleId}', 'get');
    expectDeclared(await request(h.app).get('/evidence/no-such-rule').expect(404), '/evidence/{ruleId}', 'get');
    expectDeclared(await request(h.app).get('/openapi.json').expect(200), '/openapi.json', 'get');
  });

  test('a response that breaks the card contract does not validate (the check can fail)', async () => {
    const res = await call(fixture()).expect(200);
    const validate = schemaValidator(`/paths/${escapePointer('/cds-services/{id}')}/post/responses/200/content/application~1json/schema`);
    expect(validate(res.body)).toBe(true);
    const broken = structuredClone(res.body);
    broken.cards[0].summary = 'x'.repeat(140);
    expect(validate(broken)).toBe(false);
    const noSource = structuredClone(res.body);
    delete noSource.cards[0].source;
    expect(validate(noSource)).toBe(false);
  });
});

describe('requests', () => {
  test('the order-select fixture is a valid HookRequest', () => {
    const validate = component('HookRequest');
    expect(validate(fixture()), JSON.stringify(validate.errors)).toBe(true);
  });

  test.each([
    ['without hookInstance', (b: Json) => delete b.hookInstance],
    ['without context', (b: Json) => delete b.context],
    ['order-select without selections', (b: Json) => delete (b.context as Json).selections],
    ['order-select without draftOrders', (b: Json) => delete (b.context as Json).draftOrders],
    ['a userId that is not [ResourceType]/[id]', (b: Json) => ((b.context as Json).userId = 'dr-smith')],
    ['fhirAuthorization without fhirServer', (b: Json) => (b.fhirAuthorization = { access_token: 't', token_type: 'Bearer', expires_in: 300, scope: 'user/Patient.read', subject: 'ldn-cds' })],
    ['a token_type other than Bearer', (b: Json) => Object.assign(b, { fhirServer: 'https://fhir.example.org/r4', fhirAuthorization: { access_token: 't', token_type: 'MAC', expires_in: 300, scope: 's', subject: 'x' } })],
  ])('a request %s is not a valid HookRequest, and the service refuses it too (400)', async (_name, mutate) => {
    const body = fixture();
    mutate(body);
    expect(component('HookRequest')(body)).toBe(false);
    await request(h.app).post('/cds-services/ldn-order-check').send(body).expect(400);
  });
});

describe('consistency with the zod schemas the service uses', () => {
  test('Card: ajv and CardSchema (src/cards/schema.ts) agree on real cards and on each way to break one', async () => {
    const res = await request(h.app).post('/cds-services/ldn-order-check').send(fixture()).expect(200);
    const withSuggestions = (res.body.cards as Json[]).find((c) => c.suggestions)!;
    const mutations: [string, (c: Loose) => void][] = [
      ['unchanged', () => {}],
      ['summary of 139 characters', (c) => (c.summary = 'x'.repeat(139))],
      ['summary of 140 characters', (c) => (c.summary = 'x'.repeat(140))],
      ['empty summary', (c) => (c.summary = '')],
      ['unknown indicator', (c) => (c.indicator = 'urgent')],
      ['uuid not a uuid', (c) => (c.uuid = 'card-1')],
      ['suggestion uuid not a uuid', (c) => (c.suggestions[0].uuid = 'suggestion-1')],
      ['no uuid', (c) => delete c.uuid],
      ['no source', (c) => delete c.source],
      ['relative source url', (c) => (c.source.url = '/evidence/x')],
      ['suggestions without selectionBehavior', (c) => delete c.selectionBehavior],
      ['selectionBehavior "any" with two recommended', (c) => ((c.selectionBehavior = 'any'), c.suggestions.push({ ...c.suggestions[0], isRecommended: true }), (c.suggestions[0].isRecommended = true))],
      ['at-most-one with two recommended', (c) => ((c.selectionBehavior = 'at-most-one'), c.suggestions.push({ ...c.suggestions[0], isRecommended: true }), (c.suggestions[0].isRecommended = true))],
      ['empty suggestions', (c) => (c.suggestions = [])],
      ['empty links', (c) => (c.links = [])],
      ['absolute link with appContext', (c) => (c.links = [{ label: 'x', url: 'https://x.example', type: 'absolute', appContext: 'a' }])],
      ['smart link with appContext', (c) => (c.links = [{ label: 'x', url: 'https://x.example', type: 'smart', appContext: 'a' }])],
      ['override reason without display', (c) => (c.overrideReasons = [{ system: 'http://x', code: 'y' }])],
      ['delete action without resourceId', (c) => (c.suggestions[0].actions = [{ type: 'delete', description: 'Remove' }])],
      ['update action without resource', (c) => (c.suggestions[0].actions = [{ type: 'update', description: 'Change' }])],
      ['unknown field', (c) => (c.extra = true)],
      ['null detail', (c) => (c.detail = null)],
    ];
    const validate = component('Card');
    for (const [name, mutate] of mutations) {
      const card = structuredClone(withSuggestions) as Loose;
      mutate(card);
      const zodOk = CardSchema.safeParse(card).success;
      expect(validate(card), `${name}: ajv ${JSON.stringify(validate.errors)} vs zod ${zodOk}`).toBe(zodOk);
    }
  });

  test('Discovery: ajv and DiscoverySchema agree', async () => {
    const res = await request(h.app).get('/cds-services').expect(200);
    const validate = component('Discovery');
    const variants: [string, (d: Loose) => void][] = [
      ['unchanged', () => {}],
      ['no description', (d) => delete d.services[0].description],
      ['empty prefetch', (d) => (d.services[0].prefetch = {})],
      ['unknown field', (d) => (d.services[0].extra = 'x')],
      ['no services', (d) => delete d.services],
      ['empty services', (d) => (d.services = [])],
    ];
    for (const [name, mutate] of variants) {
      const body = structuredClone(res.body);
      mutate(body);
      expect(validate(body), name).toBe(DiscoverySchema.safeParse(body).success);
    }
  });
});
