/**
 * The shape of a rule file (cds-services/rules/<id>.yaml), checked with zod `.strict()` so a misspelt
 * key is an error, not an ignored line. Meaning (FHIRPath, templates, references) is checked in compile.ts.
 * docs/knowledge-authoring.md describes the format for authors.
 */
import { SUPPORTED_HOOKS } from '../model/hooks.js';
import { z } from 'zod';

const KebabId = z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be kebab-case (a-z, 0-9, -)');
/** Names of bindings and parameters: usable as `%name` in FHIRPath and `{{name}}` in text. */
const Name = z.string().regex(/^[a-z][A-Za-z0-9]*$/, 'must be a camelCase name (letters and digits, starting lower-case)');
const Expression = z.string().trim().min(1, 'must be a FHIRPath expression');

const ActionSchema = z
  .object({
    /** Remove each draft order in this binding. */
    delete: Name.optional(),
    /** Update each draft order in `order` to `mg` once daily at bedtime; `mg` is a number or a parameter name. */
    setDailyDose: z.object({ order: Name, mg: z.union([z.number().positive(), Name]) }).strict().optional(),
  })
  .strict()
  .refine((a) => (a.delete === undefined) !== (a.setDailyDose === undefined), {
    message: 'an action is exactly one of `delete: <binding>` or `setDailyDose: { order: <binding>, mg: <number or parameter> }`',
  });

const SuggestionSchema = z
  .object({
    label: z.string().min(1),
    recommended: z.boolean().optional(),
    actions: z.array(ActionSchema).min(1, 'a suggestion needs at least one action'),
  })
  .strict();

const EvidenceCitationSchema = z.union([
  KebabId,
  z.object({ id: KebabId, says: z.string().min(1) }).strict(),
]);

const FindingSchema = z
  .object({
    if: Expression,
    /** A few words for the summary's `{{findings}}` list. */
    label: z.string().min(1),
    /** A Markdown line for the detail's `{{findings}}` list. */
    text: z.string().min(1),
  })
  .strict();

const CardSchema = z
  .object({
    indicator: z.enum(['info', 'warning', 'critical']),
    summary: z.string().min(1),
    detail: z.string().min(1),
    findings: z.array(FindingSchema).min(1).optional(),
    evidence: z.array(EvidenceCitationSchema).min(1, 'cite at least one evidence entry'),
    suggestions: z.array(SuggestionSchema).default([]),
    overrideReasons: z.array(KebabId).default([]),
  })
  .strict();

/**
 * Why a warning/critical card whose cited evidence is all weak is still warranted (src/knowledge/evidence-review.ts):
 * what the evidence is, in plain words. Shown on the rule's evidence page.
 */
const EvidenceReviewedSchema = z.string().trim().min(20, 'say what the evidence is and why the card is still warranted (at least a sentence)');

export const RuleFileSchema = z
  .object({
    id: KebabId,
    /** A short title for people (the rule's evidence page), e.g. "Naltrexone ordered with a current opioid". */
    title: z.string().trim().min(1).max(100, 'a title is at most 100 characters').optional(),
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a semantic version such as 1.0.0'),
    concern: KebabId,
    hooks: z.array(z.enum(SUPPORTED_HOOKS)).min(1),
    parameters: z.record(Name, z.union([z.number(), z.string(), z.boolean()])).default({}),
    bind: z.record(Name, Expression).refine((b) => Object.keys(b).length > 0, 'define at least one binding'),
    when: z.array(Name).min(1, 'name at least one binding that must be non-empty'),
    unless: z.array(Name).default([]),
    card: CardSchema,
    evidenceReviewed: EvidenceReviewedSchema.optional(),
  })
  .strict();

export type RuleFile = z.infer<typeof RuleFileSchema>;
export type RuleFileAction = z.infer<typeof ActionSchema>;
