/** Types for ehr.js (plain ES module served to the browser as is; tested in node). */
type Json = Record<string, unknown>;

export interface EhrState {
  hook: string;
  userId: string;
  patientId: string;
  encounterId?: string;
  fhirServer?: string;
  fhirAuthorization?: Json;
  prefetch: Record<string, unknown>;
  draftOrders: Json[];
  selections: string[];
}

export interface Coding {
  system?: string;
  code: string;
  display?: string;
}

export interface Action {
  type: string;
  description?: string;
  resource?: unknown;
  resourceId?: string;
}

export interface Suggestion {
  label: string;
  uuid?: string;
  isRecommended?: boolean;
  actions?: Action[];
}

export interface Card {
  uuid?: string;
  summary: string;
  indicator: string;
  [field: string]: unknown;
}

export interface FeedbackBody {
  feedback: {
    card: string;
    outcome: 'accepted' | 'overridden';
    acceptedSuggestions?: { id: string }[];
    overrideReason?: { reason?: Coding; userComment?: string };
    outcomeTimestamp: string;
  }[];
}

export const HOOKS: readonly string[];
export function uuid(): string;
export function bundleResources(bundle: unknown): Json[];
export function parseRequestText(text: string): Json;
export function stateFromRequest(request: unknown): EhrState;
export function blockedReason(state: EhrState, hook: string): string | null;
export function selectionsOf(state: EhrState): string[];
export function buildRequest(state: EhrState, hook: string, hookInstance?: string): Json & { hook: string; hookInstance: string; context: Json; prefetch: Json };
export function serviceFor(hook: string, services: unknown): string | undefined;
export function applySuggestion(state: EhrState, suggestion: Suggestion): { state: EhrState; applied: string[]; problems: string[] };
export function acceptedFeedback(card: Card, suggestion: Suggestion, now?: Date): FeedbackBody;
export function overriddenFeedback(card: Card, reason?: Coding, now?: Date): FeedbackBody;
export function medicationName(resource: unknown): string;
export function doseText(resource: unknown): string | undefined;
export function timingText(resource: unknown): string | undefined;
export function describeResource(resource: unknown): { title: string; facts: [string, string][] };
export function chartOf(state: EhrState): { medications: Json[]; conditions: Json[] };
export function patientBanner(state: EhrState, today?: Date): { id: string; name: string; gender?: string; birthDate?: string; age?: number };
export function cardCountText(cards: unknown, suppressed?: number, hook?: string): string;

export interface MedicationFields {
  name: string;
  code: string;
  dose: string;
  status: string;
  start: string;
  end: string;
}
export interface ConditionFields {
  name: string;
  code: string;
  clinicalStatus: string;
  onset: string;
}
export const CODE_SYSTEMS: Record<string, string>;
export const MEDICATION_STATUSES: { MedicationStatement: string[]; MedicationRequest: string[] };
export const CONDITION_CLINICAL_STATUSES: string[];
export function parseCode(value: string): Coding | undefined;
export function codeText(coding: unknown): string;
export function parseDose(value: string): { value: number; unit: string } | undefined;
export function medicationFields(resource: unknown): MedicationFields;
export function conditionFields(resource: unknown): ConditionFields;
export function saveMedication(state: EhrState, ref: string | undefined, fields: MedicationFields): { state: EhrState; ref: string };
export function saveCondition(state: EhrState, ref: string | undefined, fields: ConditionFields): { state: EhrState; ref: string };
export function removeFromChart(state: EhrState, ref: string): EhrState;
export function suppressedCount(response: unknown): number;
export function suppressedText(count: number, hook?: string): string;
