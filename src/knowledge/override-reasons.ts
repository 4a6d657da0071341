/**
 * Override reasons (cds-services/override-reasons.yaml): a LOCAL code system of reasons a clinician
 * can give for not following a card. Rules pick a subset by code; cards carry them as Codings with
 * a display (CDS Hooks §5: display is required for override reasons).
 * `acknowledges` and `suppressDays` tell feedback handling whether the card may be held back afterwards.
 */
import path from 'node:path';
import { z } from 'zod';
import type { Coding } from '../model/cards.js';
import { ProblemList } from '../model/problems.js';
import { readKnowledgeFile } from './read-yaml.js';

/**
 * The six suggested categories of the CDS Hooks 3.0 ballot (index.md "Reasons for rejecting a card": "A suggested
 * set of categories is provided in the Non-Adherence Reason Codes code system"): the top-level concepts of
 * http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes, ValueSet non-adherence-reason-category 1.0.0
 * (HL7/cds-hooks@fb10ca7 input/vocabulary/), with their displays as published there.
 */
export const HL7_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes';
export const HL7_CATEGORIES = {
  'cds-not-applicable': 'PC CDS does not apply to patient',
  'cds-suboptimal-context': 'PC CDS delivered in suboptimal context',
  'recipient-disagrees-evidence': 'Recipient disagrees with recommendation because of issues with the evidence',
  'recipient-concerns-outcomes': 'Recipient has concerns regarding potential health outcomes',
  'does-not-align-preferences': 'Recommendation does not align with patient preferences or values',
  'not-convenient-feasible': 'Recommendation is not convenient or feasible',
} as const;
export type Hl7Category = keyof typeof HL7_CATEGORIES;
const CATEGORY_CODES = Object.keys(HL7_CATEGORIES) as [Hl7Category, ...Hl7Category[]];

const ReasonSchema = z
  .object({
    code: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be kebab-case (a-z, 0-9, -)'),
    display: z.string().min(1).max(100),
    /** True when the reason means "clinician acknowledged the risk: do not repeat this card". */
    acknowledges: z.boolean(),
    /** How long an acknowledged card stays held back; absent = until the data it was about changes. */
    suppressDays: z.number().int().positive().optional(),
    /**
     * The HL7 suggested category the reason belongs to (for analytics across sites and services). Optional, so a
     * site's own reasons file keeps loading; every shipped reason has one (tests/knowledge/override-reasons.test.ts).
     */
    category: z.enum(CATEGORY_CODES, { errorMap: () => ({ message: `must be one of the HL7 suggested categories: ${CATEGORY_CODES.join(', ')}` }) }).optional(),
  })
  .strict()
  .refine((r) => r.acknowledges || r.suppressDays === undefined, {
    message: 'suppressDays only applies to a reason that acknowledges the card',
    path: ['suppressDays'],
  });

const OverrideReasonFileSchema = z
  .object({
    /** Canonical URL of the local code system. */
    system: z.string().url(),
    /** Must be true: these codes are defined here, not by HL7, SNOMED CT or any other terminology. */
    local: z.literal(true),
    description: z.string().min(1),
    reasons: z.array(ReasonSchema).min(1),
  })
  .strict();

export interface OverrideReason {
  system: string;
  code: string;
  display: string;
  acknowledges: boolean;
  suppressDays?: number;
  /** Its HL7 suggested category, as a Coding of HL7_CATEGORY_SYSTEM (when the reasons file names one). */
  category?: Coding;
}

export interface OverrideReasonCatalogue {
  readonly system: string;
  get(code: string): OverrideReason | undefined;
  all(): readonly OverrideReason[];
  /** Codings (system, code, display) for these codes, in order. Throws on an unknown code. */
  codings(codes: readonly string[]): Coding[];
}

/** Load and validate cds-services/override-reasons.yaml. Throws a KnowledgeError listing every problem. */
export function loadOverrideReasons(file: string): OverrideReasonCatalogue {
  const label = path.basename(file);
  const parsed = readKnowledgeFile(file, label, OverrideReasonFileSchema);
  const problems = new ProblemList();
  const byCode = new Map<string, OverrideReason>();
  parsed.reasons.forEach((reason, i) => {
    if (byCode.has(reason.code)) problems.add(label, `reasons[${i}].code`, `duplicate code "${reason.code}"`);
    const { category, ...rest } = reason;
    byCode.set(reason.code, { system: parsed.system, ...rest, ...(category ? { category: { system: HL7_CATEGORY_SYSTEM, code: category, display: HL7_CATEGORIES[category] } } : {}) });
  });
  problems.throwIfAny();
  const reasons = [...byCode.values()];

  return {
    system: parsed.system,
    get: (code) => byCode.get(code),
    all: () => reasons,
    codings(codes) {
      return codes.map((code) => {
        const reason = byCode.get(code);
        if (!reason) throw new Error(`Unknown override reason "${code}"`);
        return { system: reason.system, code: reason.code, display: reason.display };
      });
    },
  };
}
