/**
 * Hook request validation (CDS Hooks 2.0 §2, hooks library for context).
 * Strict where the spec is (required fields, fhirAuthorization), lenient where real clients are sloppy:
 * unknown fields and `extension` pass through, draft orders need not be valid R4 (the CDS Hooks Sandbox sends
 * drafts with no `intent` or medication yet, Bundles without `type`, `category` as an object).
 */
import { z } from 'zod';
import type { Resource } from 'fhir/r4.js';
import { SUPPORTED_HOOKS, type HookName } from '../model/hooks.js';
import { badRequest, OutcomeError, outcome, zodIssues, type IssueInput } from '../model/outcomes.js';
import type { JsonDocument } from '../model/json-document.js';
import { isWellFormedUnicode } from '../model/prefetch-template.js';

export { SUPPORTED_HOOKS };

const nonEmpty = z.string().min(1, 'must be a non-empty string');
/** A context id: non-empty and well-formed Unicode (a lone surrogate cannot be put in a FHIR query). */
const contextId = nonEmpty.refine(isWellFormedUnicode, 'must be well-formed Unicode (it holds a lone surrogate)');

const FhirAuthorization = z
  .object({
    access_token: nonEmpty,
    token_type: z.string().regex(/^bearer$/i, 'must be "Bearer"'),
    expires_in: z.number().int('must be an integer').nonnegative(),
    scope: nonEmpty,
    subject: nonEmpty,
    patient: nonEmpty.optional(),
  })
  .passthrough();

/** Any FHIR resource: only `resourceType` is checked here. */
const AnyResource = z.object({ resourceType: nonEmpty }).passthrough();

const LooseBundle = z
  .object({
    resourceType: z.literal('Bundle'),
    entry: z.array(z.object({ resource: AnyResource.optional() }).passthrough()).optional(),
  })
  .passthrough();

const HookRequestEnvelope = z
  .object({
    hook: nonEmpty,
    hookInstance: nonEmpty,
    fhirServer: z.string().url('must be an absolute URL').optional(),
    fhirAuthorization: FhirAuthorization.optional(),
    context: z.object({}).passthrough(),
    prefetch: z.record(z.string(), z.unknown()).optional(),
    extension: z.object({}).passthrough().optional(),
  })
  .passthrough()
  .superRefine((req, ctx) => {
    if (req.fhirAuthorization && !req.fhirServer) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['fhirServer'], message: 'is required when fhirAuthorization is present' });
    }
  });

/** context.userId: "[ResourceType]/[id]"; the type names the 2.0 user token (userTokens). */
const USER_ID = /^(Practitioner|PractitionerRole|Patient|RelatedPerson)\/([^/\s]+)$/;

const userId = z
  .string()
  .regex(USER_ID, 'must be "[ResourceType]/[id]" (Practitioner, PractitionerRole, Patient or RelatedPerson)')
  .refine(isWellFormedUnicode, 'must be well-formed Unicode (it holds a lone surrogate)');

const PatientViewContext = z
  .object({ userId, patientId: contextId, encounterId: contextId.optional() })
  .passthrough();

const OrderSignContext = z
  .object({ userId, patientId: contextId, encounterId: contextId.optional(), draftOrders: LooseBundle })
  .passthrough();

const OrderSelectContext = OrderSignContext.extend({ selections: z.array(nonEmpty) }).passthrough();

const CONTEXT_SCHEMAS: Record<HookName, z.ZodTypeAny> = {
  'patient-view': PatientViewContext,
  'order-select': OrderSelectContext,
  'order-sign': OrderSignContext,
};

export interface HookContext {
  userId: string;
  patientId: string;
  encounterId?: string;
  selections?: string[];
  draftOrders?: { resourceType: 'Bundle'; entry?: { resource?: Resource }[] };
  [field: string]: unknown;
}

export interface HookRequest {
  hook: HookName;
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: z.infer<typeof FhirAuthorization>;
  context: HookContext;
  prefetch?: Record<string, unknown>;
}

/**
 * Validate a hook call body for a service serving `servedHooks`. Throws OutcomeError:
 * 400 listing every problem by JSON path; 400 when the hook is not served by this service id.
 */
export function parseHookRequest(body: unknown, servedHooks: readonly string[], serviceId: string): HookRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OutcomeError(badRequest('Request body must be a JSON object'));
  }
  const envelope = HookRequestEnvelope.safeParse(body);
  const issues: IssueInput[] = envelope.success ? [] : zodIssues(envelope.error);
  const hook = (body as { hook?: unknown }).hook;
  if (typeof hook === 'string' && hook.length > 0 && !servedHooks.includes(hook)) {
    throw new OutcomeError(
      badRequest(`Service "${serviceId}" does not serve hook "${hook}" (it serves: ${servedHooks.join(', ')})`, ['hook']),
    );
  }
  const context = (body as { context?: unknown }).context;
  if (typeof hook === 'string' && servedHooks.includes(hook) && typeof context === 'object' && context !== null) {
    const ctx = CONTEXT_SCHEMAS[hook as HookName].safeParse(context);
    if (!ctx.success) issues.push(...zodIssues(ctx.error, ['context']));
  }
  if (issues.length) throw new OutcomeError(outcome(400, issues));
  return body as HookRequest;
}

/**
 * Members left out of the body digest: hookInstance differs on every call, fhirAuthorization carries a secret.
 * Neither changes what the service concludes from data the call supplies in full (src/engine/index.ts).
 */
export const VOLATILE_MEMBERS: readonly string[] = ['hookInstance', 'fhirAuthorization'];

export interface ParsedHookCall {
  request: HookRequest;
  /** Digest of the body less VOLATILE_MEMBERS (src/model/json-document.ts), when its top level could be mapped. */
  bodyDigest?: string;
}

/**
 * parseHookRequest for a body as received. The prefetch is not parsed here: `request.prefetch` parses it on first
 * read (and throws OutcomeError 400 if it is not JSON), so a call whose evaluation is already known by its digest
 * never builds it. Its shape is still checked: the scan found an object there.
 */
export function parseHookDocument(doc: JsonDocument, servedHooks: readonly string[], serviceId: string): ParsedHookCall {
  const deferred = doc.deferring('prefetch');
  const request = parseHookRequest(deferred ? deferred.value : doc.value(), servedHooks, serviceId);
  if (deferred) Object.defineProperty(request, 'prefetch', { get: deferred.member, enumerable: true, configurable: true });
  const bodyDigest = doc.digestWithout(VOLATILE_MEMBERS);
  return bodyDigest ? { request, bodyDigest } : { request };
}

/** 2.0 user tokens derived from context.userId ("PractitionerRole/123" → userPractitionerRoleId = "123"). */
export function userTokens(userIdValue: string): Record<string, string> {
  const m = USER_ID.exec(userIdValue);
  if (!m) return {};
  return { [`user${m[1]}Id`]: m[2]! };
}
