/**
 * Errors as values: an HTTP status beside a FHIR OperationOutcome, one factory per kind.
 * Nothing here ever carries a token, a stack or a raw patient identifier.
 */
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { formatPath } from './problems.js';

export type IssueType = OperationOutcomeIssue['code'];

export interface Outcome {
  status: number;
  body: OperationOutcome;
}

export interface IssueInput {
  code?: IssueType;
  text: string;
  expression?: string[];
  severity?: OperationOutcomeIssue['severity'];
  /** Additional detail for the caller (FHIR `diagnostics`): never a token, a stack or a patient identifier. */
  diagnostics?: string;
}

export function outcome(status: number, issues: IssueInput[]): Outcome {
  return {
    status,
    body: {
      resourceType: 'OperationOutcome',
      issue: issues.map((i) => ({
        severity: i.severity ?? 'error',
        code: i.code ?? 'invalid',
        details: { text: i.text },
        ...(i.diagnostics ? { diagnostics: i.diagnostics } : {}),
        ...(i.expression && i.expression.length ? { expression: i.expression } : {}),
      })),
    },
  };
}

export const badRequest = (text: string, expression?: string[]): Outcome => outcome(400, [{ code: 'invalid', text, expression }]);
export const notFound = (text: string): Outcome => outcome(404, [{ code: 'not-found', text }]);
export const unsupportedMediaType = (text: string): Outcome => outcome(415, [{ code: 'not-supported', text }]);
export const tooLarge = (text: string): Outcome => outcome(413, [{ code: 'too-long', text }]);
export const preconditionFailed = (issues: IssueInput[]): Outcome =>
  outcome(412, issues.map((i) => ({ code: 'incomplete', ...i })));
export const serviceUnavailable = (text: string): Outcome => outcome(503, [{ code: 'transient', text }]);
export const internalError = (): Outcome => outcome(500, [{ code: 'exception', text: 'Internal error' }]);

/** Thrown anywhere below HTTP; the error handler answers with its outcome. */
export class OutcomeError extends Error {
  constructor(readonly outcome: Outcome) {
    super(outcome.body.issue[0]?.details?.text ?? `HTTP ${outcome.status}`);
    this.name = 'OutcomeError';
  }
}

/** One 'invalid' issue at a zod path: "path: message" with the path as its expression ("(body)", none, at the root). */
export function invalidAt(path: ReadonlyArray<PropertyKey>, message: string): IssueInput {
  const where = formatPath(path);
  return { code: 'invalid', text: `${where || '(body)'}: ${message}`, ...(where ? { expression: [where] } : {}) };
}

/** Every issue of a zod error, as invalidAt issues, their paths under `prefix` (e.g. ["context"]). */
export function zodIssues(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }, prefix: readonly PropertyKey[] = []): IssueInput[] {
  return error.issues.map((i) => invalidAt([...prefix, ...i.path], i.message));
}
