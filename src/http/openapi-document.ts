/**
 * The service's OpenAPI 3.1 description, served at GET /openapi.json. Component schemas are JSON Schema 2020-12
 * and mirror the zod schemas the service itself uses (src/cards/schema.ts for what it sends, src/hooks/request.ts
 * and src/http/feedback.ts for what it accepts): same required fields, same limits (summary < 140 characters,
 * indicator values, uuid formats). tests/http/openapi.test.ts validates the app's real responses against it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/index.js';
import { EVIDENCE_STRENGTHS } from '../knowledge/evidence.js';
import { SUMMARY_MAX_LENGTH } from '../model/cards.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type OpenApiDocument = { [key: string]: Json };

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const nonEmpty: Json = { type: 'string', minLength: 1 };
const absoluteUrl: Json = { type: 'string', format: 'uri', pattern: '^https?://' };
const json = (schema: Json): Json => ({ 'application/json': { schema } });

const outcomeResponse = (description: string): Json => ({ description, content: json(ref('OperationOutcome')) });

/** Error answers shared by the CDS Hooks endpoints (every one an OperationOutcome). */
const ERRORS: Record<string, Json> = {
  400: outcomeResponse('Invalid request: every problem is listed with its JSON path in `issue[].expression`.'),
  401: outcomeResponse(
    'Missing or invalid CDS client JWT (not sent when AUTH_MODE=off). The body is a generic OperationOutcome; the reason is logged only. Carries `WWW-Authenticate: Bearer`.',
  ),
  404: outcomeResponse('No CDS service with this id.'),
  412: outcomeResponse(
    'Required FHIR data could not be obtained: not prefetched and not fetchable from `fhirServer` (not allow-listed, no token, or a fetch failed within the deadline). The issues name the missing prefetch keys.',
  ),
  413: outcomeResponse('Request body larger than BODY_LIMIT.'),
  415: outcomeResponse('Content-Type is not application/json.'),
  503: outcomeResponse(
    'Temporarily unavailable (replay cache or database unreachable). Retry; a `Retry-After` header may say when.',
  ),
  500: outcomeResponse('Unexpected error: a generic OperationOutcome (details go to the log only).'),
};
const errors = (...codes: number[]): Record<string, Json> => Object.fromEntries(codes.map((c) => [String(c), ERRORS[c]!]));

const CORS_HEADERS: Json = {
  'Access-Control-Allow-Origin': { description: 'The caller\'s origin when allowed by CORS_ORIGINS, or `*`.', schema: { type: 'string' } },
  'Access-Control-Allow-Methods': { schema: { type: 'string', examples: ['GET, POST, OPTIONS'] } },
  'Access-Control-Allow-Headers': { schema: { type: 'string', examples: ['Authorization, Content-Type, Accept, X-Request-Id'] } },
  'Access-Control-Max-Age': { schema: { type: 'string', examples: ['600'] } },
};

const preflight = (path: string): Json => ({
  operationId: `preflight${path}`,
  tags: ['CDS Hooks'],
  summary: 'CORS preflight',
  description:
    'Answered before authentication, without a JWT, for browser-based CDS clients such as the CDS Hooks Sandbox. CORS headers are also on every real answer, errors included.',
  security: [],
  responses: { 204: { description: 'Preflight accepted; no body.', headers: CORS_HEADERS } },
});

const serviceId: Json = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'CDS service id from discovery (`ldn-patient-view`, `ldn-order-select`, `ldn-order-sign`), or the former `ldn-order-check` (order-select and order-sign, routed by the request\'s hook).',
  schema: { type: 'string', minLength: 1, examples: ['ldn-order-select'] },
};

const cdsClientJwt: Json = [{ cdsClientJwt: [] }];

const SCHEMAS: Record<string, Json> = {
  Coding: {
    type: 'object',
    description: 'CDS Hooks Coding (spec §5).',
    required: ['system', 'code'],
    properties: { system: nonEmpty, code: nonEmpty, display: nonEmpty },
    additionalProperties: false,
  },
  OverrideReasonCoding: {
    description: 'An override reason: a Coding whose `display` is required (spec §5).',
    allOf: [ref('Coding'), { type: 'object', required: ['display'] }],
  },
  Source: {
    type: 'object',
    description:
      'Where a card comes from: the knowledge base and its version (`label`), and the page of the rule that made the card (`url`, `<PUBLIC_BASE_URL>/evidence/{ruleId}`).',
    required: ['label'],
    properties: { label: nonEmpty, url: absoluteUrl, icon: absoluteUrl, topic: ref('Coding') },
    additionalProperties: false,
  },
  Link: {
    type: 'object',
    description: 'A link to evidence: PubMed, DOI, PubMed Central or a label page, labelled with the source and its strength of evidence.',
    required: ['label', 'url', 'type'],
    properties: {
      label: nonEmpty,
      url: absoluteUrl,
      type: { enum: ['absolute', 'smart'] },
      appContext: { ...(nonEmpty as object), description: 'Only on smart links.' },
    },
    additionalProperties: false,
    if: { required: ['appContext'] },
    then: { properties: { type: { const: 'smart' } } },
  },
  Action: {
    type: 'object',
    description: '`create` and `update` carry the whole FHIR resource; `delete` carries `resourceId` ("MedicationRequest/<id>").',
    required: ['type', 'description'],
    properties: {
      type: { enum: ['create', 'update', 'delete'] },
      description: nonEmpty,
      resource: { type: 'object', required: ['resourceType'], properties: { resourceType: nonEmpty } },
      resourceId: nonEmpty,
    },
    additionalProperties: false,
    allOf: [
      { if: { properties: { type: { enum: ['create', 'update'] } } }, then: { required: ['resource'] } },
      { if: { properties: { type: { const: 'delete' } } }, then: { required: ['resourceId'] } },
    ],
  },
  Suggestion: {
    type: 'object',
    required: ['label', 'uuid'],
    properties: {
      label: nonEmpty,
      uuid: { type: 'string', format: 'uuid', description: 'Sent back in feedback `acceptedSuggestions[].id`.' },
      isRecommended: { type: 'boolean' },
      actions: { type: 'array', minItems: 1, items: ref('Action') },
    },
    additionalProperties: false,
  },
  Card: {
    type: 'object',
    description:
      'A CDS Hooks card (spec §5). No optional field is ever empty or null. `detail` is GitHub-flavoured Markdown ending with an **Evidence** section naming each source and its strength of evidence.',
    required: ['uuid', 'summary', 'indicator', 'source'],
    properties: {
      uuid: { type: 'string', format: 'uuid', description: 'Sent back in feedback `card`.' },
      summary: { type: 'string', minLength: 1, maxLength: SUMMARY_MAX_LENGTH, description: 'One sentence, under 140 characters.' },
      detail: nonEmpty,
      indicator: { enum: ['info', 'warning', 'critical'] },
      source: ref('Source'),
      suggestions: { type: 'array', minItems: 1, items: ref('Suggestion') },
      selectionBehavior: { enum: ['at-most-one', 'any'] },
      overrideReasons: { type: 'array', minItems: 1, items: ref('OverrideReasonCoding') },
      links: { type: 'array', minItems: 1, items: ref('Link') },
    },
    additionalProperties: false,
    dependentRequired: { suggestions: ['selectionBehavior'] },
    if: { required: ['selectionBehavior'], properties: { selectionBehavior: { const: 'at-most-one' } } },
    then: {
      properties: { suggestions: { type: 'array', minContains: 0, maxContains: 1, contains: { type: 'object', required: ['isRecommended'], properties: { isRecommended: { const: true } } } } },
    },
  },
  CdsResponse: {
    type: 'object',
    description: 'Most urgent card first; `{"cards": []}` when nothing applies.',
    required: ['cards'],
    properties: {
      cards: { type: 'array', items: ref('Card') },
      systemActions: { type: 'array', minItems: 1, items: ref('Action') },
      extension: {
        type: 'object',
        description: 'Present when cards were held back: `ldn-cds.suppressed` is how many (an acknowledging override for this patient and drug pair, or an info card already shown at order-select).',
        required: ['ldn-cds.suppressed'],
        properties: { 'ldn-cds.suppressed': { type: 'integer', minimum: 1 } },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
  ServiceDefinition: {
    type: 'object',
    description: 'One entry per service id, each for one hook (`ldn-patient-view`, `ldn-order-select`, `ldn-order-sign`). The former id `ldn-order-check` still answers both order hooks but is not listed.',
    required: ['hook', 'id', 'description'],
    properties: {
      hook: nonEmpty,
      id: nonEmpty,
      title: nonEmpty,
      description: nonEmpty,
      prefetch: { type: 'object', minProperties: 1, additionalProperties: nonEmpty, description: 'Prefetch key → FHIR query template.' },
      usageRequirements: nonEmpty,
      version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+$', description: 'CDS Hooks 3.0 ballot: semantic version of the CDS Hooks specification implemented (`2.0.1`).' },
      hookVersion: { type: 'string', minLength: 1, description: 'CDS Hooks 3.0 ballot: version of the published hook definition (CDS Hooks Library).' },
      extension: {
        type: 'object',
        description: '`org.example.ldn-cds.knowledge-pack`: `{name, version}` of the knowledge pack (semantic version) that makes the cards.',
        additionalProperties: { type: 'object' },
      },
    },
    additionalProperties: false,
  },
  Discovery: {
    type: 'object',
    required: ['services'],
    properties: { services: { type: 'array', items: ref('ServiceDefinition') } },
    additionalProperties: false,
  },
  FhirAuthorization: {
    type: 'object',
    description: 'OAuth 2.0 bearer token for `fhirServer` (spec §4). Used only for allow-listed servers, never logged or stored.',
    required: ['access_token', 'token_type', 'expires_in', 'scope', 'subject'],
    properties: {
      access_token: nonEmpty,
      token_type: { type: 'string', pattern: '^[Bb][Ee][Aa][Rr][Ee][Rr]$', description: '"Bearer".' },
      expires_in: { type: 'integer', minimum: 0 },
      scope: nonEmpty,
      subject: nonEmpty,
      patient: nonEmpty,
    },
  },
  UserId: {
    type: 'string',
    pattern: '^(Practitioner|PractitionerRole|Patient|RelatedPerson)/[^/\\s]+$',
    examples: ['Practitioner/example'],
  },
  PatientViewContext: {
    type: 'object',
    required: ['userId', 'patientId'],
    properties: { userId: ref('UserId'), patientId: nonEmpty, encounterId: nonEmpty },
  },
  DraftOrders: {
    type: 'object',
    description: 'A Bundle of draft orders (MedicationRequest and others). `type` and R4 validity are not required: real clients send partial drafts.',
    required: ['resourceType'],
    properties: {
      resourceType: { const: 'Bundle' },
      entry: { type: 'array', items: { type: 'object', properties: { resource: { type: 'object', required: ['resourceType'], properties: { resourceType: nonEmpty } } } } },
    },
  },
  OrderSignContext: {
    type: 'object',
    required: ['userId', 'patientId', 'draftOrders'],
    properties: { userId: ref('UserId'), patientId: nonEmpty, encounterId: nonEmpty, draftOrders: ref('DraftOrders') },
  },
  OrderSelectContext: {
    type: 'object',
    required: ['userId', 'patientId', 'selections', 'draftOrders'],
    properties: {
      userId: ref('UserId'),
      patientId: nonEmpty,
      encounterId: nonEmpty,
      selections: { type: 'array', items: nonEmpty, description: 'References of the selected draft orders, e.g. "MedicationRequest/draft-1".' },
      draftOrders: ref('DraftOrders'),
    },
  },
  HookRequest: {
    type: 'object',
    description:
      'A CDS Hooks call (spec §2). Unknown fields and `extension` are accepted. Prefetch values are FHIR resources, searchset Bundles (paged with `next` links) or null (no data).',
    required: ['hook', 'hookInstance', 'context'],
    properties: {
      hook: { type: 'string', minLength: 1, examples: ['order-select', 'order-sign', 'patient-view'] },
      hookInstance: { type: 'string', minLength: 1, description: 'A UUID for this hook call.' },
      fhirServer: { type: 'string', format: 'uri', description: 'Required with `fhirAuthorization`. Fetched from only when on FHIR_SERVER_ALLOWLIST.' },
      fhirAuthorization: ref('FhirAuthorization'),
      context: { type: 'object' },
      prefetch: { type: 'object', additionalProperties: { type: ['object', 'null'] } },
      extension: { type: 'object' },
    },
    dependentRequired: { fhirAuthorization: ['fhirServer'] },
    allOf: [
      { if: { required: ['hook'], properties: { hook: { const: 'patient-view' } } }, then: { properties: { context: ref('PatientViewContext') } } },
      { if: { required: ['hook'], properties: { hook: { const: 'order-select' } } }, then: { properties: { context: ref('OrderSelectContext') } } },
      { if: { required: ['hook'], properties: { hook: { const: 'order-sign' } } }, then: { properties: { context: ref('OrderSignContext') } } },
    ],
  },
  Feedback: {
    type: 'object',
    description: 'One feedback item (spec §6). Resending the same item is harmless.',
    required: ['card', 'outcome', 'outcomeTimestamp'],
    properties: {
      card: { type: 'string', minLength: 1, maxLength: 256, description: 'The `uuid` of the card.' },
      outcome: { enum: ['accepted', 'overridden'] },
      acceptedSuggestions: {
        type: 'array',
        items: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } },
        description: 'Required (at least one) when `outcome` is `accepted`: the suggestion `uuid`s.',
      },
      overrideReason: {
        type: 'object',
        description: 'A coded reason (from the card\'s `overrideReasons`), a comment, or both. `display` may be left out.',
        properties: {
          reason: { type: 'object', required: ['code'], properties: { code: nonEmpty, system: nonEmpty, display: { type: 'string' } } },
          userComment: { type: 'string', description: 'Stored only when FEEDBACK_STORE_COMMENTS=on (it may hold PHI).' },
        },
        anyOf: [{ required: ['reason'] }, { required: ['userComment'] }],
      },
      outcomeTimestamp: { type: 'string', format: 'date-time', examples: ['2026-11-21T09:00:00Z'] },
    },
    if: { required: ['outcome'], properties: { outcome: { const: 'accepted' } } },
    then: { required: ['acceptedSuggestions'], properties: { acceptedSuggestions: { type: 'array', minItems: 1 } } },
  },
  FeedbackRequest: {
    type: 'object',
    required: ['feedback'],
    properties: { feedback: { type: 'array', minItems: 1, items: ref('Feedback') } },
  },
  FeedbackResponse: {
    type: 'object',
    description: 'Always `{}`: sent once the whole batch is committed.',
    maxProperties: 0,
  },
  OperationOutcome: {
    type: 'object',
    description: 'FHIR R4 OperationOutcome: the body of every error answer.',
    required: ['resourceType', 'issue'],
    properties: {
      resourceType: { const: 'OperationOutcome' },
      issue: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['severity', 'code'],
          properties: {
            severity: { enum: ['fatal', 'error', 'warning', 'information'] },
            code: { type: 'string', minLength: 1, examples: ['invalid', 'not-found', 'incomplete', 'login', 'too-long', 'not-supported', 'transient', 'exception'] },
            details: { type: 'object', properties: { text: { type: 'string' } } },
            diagnostics: { type: 'string' },
            expression: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'FHIRPath-style location, e.g. "context.draftOrders.entry[0]".' },
          },
        },
      },
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: { status: { const: 'ok' } },
    additionalProperties: false,
  },
  Readiness: {
    type: 'object',
    required: ['status', 'checks'],
    properties: {
      status: { enum: ['ready', 'not-ready'] },
      checks: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'ok', 'detail'],
          properties: { name: { type: 'string', minLength: 1, examples: ['knowledge', 'auth', 'storage'] }, ok: { type: 'boolean' }, detail: { type: 'string' } },
          additionalProperties: false,
        },
      },
      warnings: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'e.g. that AUTH_MODE=off.' },
    },
    additionalProperties: false,
  },
  RuleAnalytics: {
    type: 'object',
    required: ['ruleId', 'ruleVersion', 'shown', 'accepted', 'overridden', 'overriddenByReason', 'acceptanceRate'],
    properties: {
      ruleId: nonEmpty,
      ruleVersion: nonEmpty,
      shown: { type: 'integer', minimum: 0, description: 'Showings: cards returned, a card re-shown for the same client, patient, draft orders and hook within ANALYTICS_REPEAT_WINDOW_S counted once.' },
      accepted: { type: 'integer', minimum: 0, description: 'Showings with at least one `accepted` feedback from the client that was shown the card.' },
      overridden: { type: 'integer', minimum: 0, description: 'Showings with at least one `overridden` feedback from the client that was shown the card.' },
      overriddenByReason: {
        type: 'object',
        additionalProperties: { type: 'integer', minimum: 0 },
        description: 'Overridden showings by reason code; "(none)" for overrides without a coded reason.',
      },
      acceptanceRate: { type: ['number', 'null'], minimum: 0, maximum: 1, description: 'accepted / shown (4 decimals); null when nothing was shown.' },
    },
    additionalProperties: false,
  },
  Analytics: {
    type: 'object',
    required: ['from', 'to', 'rules'],
    properties: {
      from: { type: ['string', 'null'], format: 'date-time' },
      to: { type: ['string', 'null'], format: 'date-time' },
      issuer: { type: 'string', description: 'The client filter, when given.' },
      tenant: { type: 'string', description: 'The tenant filter, when given.' },
      rules: { type: 'array', items: ref('RuleAnalytics') },
    },
    additionalProperties: false,
  },
};

const JWT_DESCRIPTION = [
  'A CDS client JWT (CDS Hooks 2.0 §7), signed with an asymmetric key (ES384 and RS384 recommended; never `none` or HMAC).',
  'Header: `alg`, `kid` (a key in the client\'s JWK Set), `typ` = `JWT`, optional `jku` (only URLs allow-listed for the issuer are fetched).',
  'Claims: `iss` (a trusted client, TRUSTED_CLIENTS), `aud` (the URL of the endpoint called: `<PUBLIC_BASE_URL>/cds-services`,',
  '`…/cds-services/{id}` or `…/cds-services/{id}/feedback`; a string or an array), `exp`, `iat` (lifetime at most JWT_MAX_LIFETIME_S),',
  '`jti` (single use: a replayed token is refused) and optional `tenant` (checked against the client\'s tenants). `sub` is ignored.',
  'Required on discovery, service calls and feedback unless AUTH_MODE=off (development only). A refused token gets 401 with no detail.',
].join(' ');

/** The service's version: package.json's. */
function serviceVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

/** The OpenAPI 3.1 document for a service reached at `publicBaseUrl`. */
export function buildOpenApiDocument(publicBaseUrl: string, version: string = serviceVersion()): OpenApiDocument {
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'ldn-cds',
      version,
      summary: 'CDS Hooks 2.0 service: low-dose naltrexone (LDN) with opioids, interferon-beta or MS spasticity.',
      description:
        'Warns prescribers, inline, when low-dose naltrexone is ordered or taken with an opioid or interferon-beta, or for a patient with multiple sclerosis and spasticity. Every card states the strength of its evidence and links the studies; `source.url` is the rule\'s evidence page. LDN is off-label for MS and is not a disease-modifying therapy; the service supports, and does not replace, clinical judgement.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: publicBaseUrl, description: 'PUBLIC_BASE_URL' }],
    tags: [
      { name: 'CDS Hooks', description: 'Discovery, service calls and feedback (CDS Hooks 2.0).' },
      { name: 'Evidence', description: 'Human-readable pages: each rule, its rationale and the evidence it cites.' },
      { name: 'Operations', description: 'Health, readiness, metrics, analytics and this description.' },
    ],
    paths: {
      '/cds-services': {
        get: {
          operationId: 'discovery',
          tags: ['CDS Hooks'],
          summary: 'Discovery: the CDS services offered',
          security: cdsClientJwt,
          responses: { 200: { description: 'The services, one entry per hook.', content: json(ref('Discovery')) }, ...errors(401, 503) },
        },
        options: preflight('Discovery'),
      },
      '/cds-services/{id}': {
        parameters: [serviceId],
        post: {
          operationId: 'callService',
          tags: ['CDS Hooks'],
          summary: 'Call a CDS service',
          description:
            'Data comes from prefetch when sent, otherwise from the request\'s `fhirServer` (only when allow-listed), all under REQUEST_DEADLINE_MS. A hook this id does not serve is a 400.',
          security: cdsClientJwt,
          requestBody: { required: true, content: json(ref('HookRequest')) },
          responses: {
            200: { description: 'Cards, most urgent first; `{"cards": []}` when nothing applies.', content: json(ref('CdsResponse')) },
            ...errors(400, 401, 404, 412, 413, 415, 503, 500),
          },
        },
        options: preflight('Service'),
      },
      '/cds-services/{id}/feedback': {
        parameters: [serviceId],
        post: {
          operationId: 'feedback',
          tags: ['CDS Hooks'],
          summary: 'Feedback on cards (accepted or overridden)',
          description:
            'CDS Hooks §6. Answers `{}` once the batch is committed. An override whose reason acknowledges the card holds the same card back for that patient and drug pair for a while (SUPPRESSION).',
          security: cdsClientJwt,
          requestBody: { required: true, content: json(ref('FeedbackRequest')) },
          responses: {
            200: { description: 'Stored.', content: json(ref('FeedbackResponse')) },
            ...errors(400, 401, 404, 413, 415),
            503: {
              description: 'The database cannot be written right now; resend later (resending is safe).',
              headers: { 'Retry-After': { schema: { type: 'string' } } },
              content: json(ref('OperationOutcome')),
            },
          },
        },
        options: preflight('Feedback'),
      },
      '/healthz': {
        get: {
          operationId: 'healthz',
          tags: ['Operations'],
          summary: 'Liveness',
          security: [],
          responses: { 200: { description: 'The process answers.', content: json(ref('Health')) } },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readyz',
          tags: ['Operations'],
          summary: 'Readiness: knowledge loaded, replay cache and database reachable',
          security: [],
          responses: {
            200: { description: 'Ready.', content: json(ref('Readiness')) },
            503: { description: 'Not ready: the failing checks say why.', content: json(ref('Readiness')) },
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          tags: ['Operations'],
          summary: 'Prometheus metrics',
          description:
            'Served here unless METRICS_PORT moves it to an internal listener; behind METRICS_TOKEN when set; off on this port in production without METRICS_TOKEN (404). Open (no token, public port) it counts auth refusals in coarse classes only.',
          security: [{}, { metricsToken: [] }],
          responses: {
            200: {
              description: 'Prometheus text exposition format: requests, latency, rules, cards, FHIR fetches, prefetch keys, auth failures, audit queue.',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            401: outcomeResponse('METRICS_TOKEN is set and the request does not carry it as a bearer token.'),
            404: outcomeResponse('Not served on this port: METRICS_PORT is set, or production without METRICS_TOKEN.'),
          },
        },
      },
      '/admin/analytics': {
        get: {
          operationId: 'analytics',
          tags: ['Operations'],
          summary: 'Rule analytics: cards shown, accepted and overridden per rule and version',
          description: 'Mounted only when ADMIN_TOKEN is set (otherwise every /admin path is a 404). The range applies to when cards were shown.',
          security: [{ adminToken: [] }],
          parameters: [
            { name: 'from', in: 'query', required: false, description: 'Inclusive start: a date (2026-11-01) or an RFC 3339 date-time.', schema: { type: 'string' } },
            { name: 'to', in: 'query', required: false, description: 'Exclusive end: a date or an RFC 3339 date-time.', schema: { type: 'string' } },
            { name: 'issuer', in: 'query', required: false, description: 'Only cards shown to this client (its JWT issuer; urn:ldn-cds:auth-off for AUTH_MODE=off calls).', schema: { type: 'string' } },
            { name: 'tenant', in: 'query', required: false, description: 'With issuer: only this tenant (empty for calls without one).', schema: { type: 'string' } },
          ],
          responses: {
            200: { description: 'Analytics per rule and version.', content: json(ref('Analytics')) },
            400: outcomeResponse('A bad or repeated `from`/`to`/`issuer`/`tenant`, or `tenant` without `issuer`.'),
            401: outcomeResponse('Missing or wrong admin token. Carries `WWW-Authenticate: Bearer`.'),
            503: outcomeResponse('The database cannot be reached.'),
          },
        },
      },
      '/evidence': {
        get: {
          operationId: 'evidenceIndex',
          tags: ['Evidence'],
          summary: 'Every rule and the whole evidence catalogue (HTML)',
          description: `The knowledge base name and version, each rule with a one-line rationale, and every evidence entry with design, size, finding, strength of evidence (${EVIDENCE_STRENGTHS.join(', ')}), verification and links.`,
          security: [],
          responses: { 200: { description: 'An HTML page (strict Content-Security-Policy, no script).', content: { 'text/html': { schema: { type: 'string' } } } } },
        },
      },
      '/evidence/{ruleId}': {
        get: {
          operationId: 'evidenceRule',
          tags: ['Evidence'],
          summary: 'One rule\'s evidence page (HTML): every card\'s `source.url`',
          description:
            'The rule\'s title, version, hooks and indicator, its When/Then rationale, its parameters, each cited source (design, size, finding or label text, strength of evidence, verification, links), and the override reasons offered.',
          security: [],
          parameters: [{ name: 'ruleId', in: 'path', required: true, schema: { type: 'string', examples: ['ldn-with-opioid'] } }],
          responses: {
            200: { description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } },
            404: { description: 'No such rule: an HTML page.', content: { 'text/html': { schema: { type: 'string' } } } },
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          tags: ['Operations'],
          summary: 'This OpenAPI 3.1 description',
          security: [],
          responses: { 200: { description: 'The OpenAPI document.', content: json({ type: 'object', required: ['openapi', 'info', 'paths'] }) } },
        },
      },
    },
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        cdsClientJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: JWT_DESCRIPTION },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN, compared in constant time. Separate from CDS client JWTs.' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, compared in constant time, when set.' },
      },
    },
  };
}
