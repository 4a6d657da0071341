/**
 * zod schemas for what the service sends: cards (spec §5) and discovery (§1). Used by the conformance and
 * response tests, so one definition says what "spec-exact" means.
 */
import { z } from 'zod';
import { SUMMARY_MAX_LENGTH } from '../model/cards.js';

const nonEmpty = z.string().min(1);
const absoluteUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an absolute http(s) URL');

const CodingSchema = z.object({ system: nonEmpty, code: nonEmpty, display: nonEmpty.optional() }).strict();

const ActionSchema = z
  .object({
    type: z.enum(['create', 'update', 'delete']),
    description: nonEmpty,
    resource: z.object({ resourceType: nonEmpty }).passthrough().optional(),
    resourceId: nonEmpty.optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if ((a.type === 'create' || a.type === 'update') && !a.resource) ctx.addIssue({ code: 'custom', message: `${a.type} needs resource` });
    if (a.type === 'delete' && !a.resourceId) ctx.addIssue({ code: 'custom', message: 'delete needs resourceId' });
  });

const SuggestionSchema = z
  .object({ label: nonEmpty, uuid: z.string().uuid(), isRecommended: z.boolean().optional(), actions: z.array(ActionSchema).min(1).optional() })
  .strict();

const LinkSchema = z
  .object({ label: nonEmpty, url: absoluteUrl, type: z.enum(['absolute', 'smart']), appContext: nonEmpty.optional() })
  .strict()
  .refine((l) => !l.appContext || l.type === 'smart', 'appContext only on smart links');

export const CardSchema = z
  .object({
    uuid: z.string().uuid(),
    summary: z.string().min(1).max(SUMMARY_MAX_LENGTH, `summary must be < ${SUMMARY_MAX_LENGTH + 1} characters`),
    detail: nonEmpty.optional(),
    indicator: z.enum(['info', 'warning', 'critical']),
    source: z
      .object({ label: nonEmpty, url: absoluteUrl.optional(), icon: absoluteUrl.optional(), topic: CodingSchema.optional() })
      .strict(),
    suggestions: z.array(SuggestionSchema).min(1).optional(),
    selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
    overrideReasons: z.array(CodingSchema.required({ display: true })).min(1).optional(),
    links: z.array(LinkSchema).min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.suggestions && !c.selectionBehavior) ctx.addIssue({ code: 'custom', path: ['selectionBehavior'], message: 'required with suggestions' });
    if (c.selectionBehavior === 'at-most-one' && (c.suggestions ?? []).filter((s) => s.isRecommended).length > 1) {
      ctx.addIssue({ code: 'custom', path: ['suggestions'], message: 'at-most-one allows one recommended suggestion' });
    }
  });

export const CdsResponseSchema = z.object({ cards: z.array(CardSchema), systemActions: z.array(ActionSchema).min(1).optional() }).strict();

export const DiscoverySchema = z
  .object({
    services: z.array(
      z
        .object({
          hook: nonEmpty,
          id: nonEmpty,
          title: nonEmpty.optional(),
          description: nonEmpty,
          prefetch: z.record(nonEmpty).refine((p) => Object.keys(p).length > 0, 'no empty prefetch').optional(),
          usageRequirements: nonEmpty.optional(),
          /** CDS Hooks 3.0 ballot: the semantic version of CDS Hooks implemented, and the hook's published version. */
          version: z.string().regex(/^\d+\.\d+\.\d+$/, 'semantic version').optional(),
          hookVersion: nonEmpty.optional(),
          extension: z.record(z.object({}).passthrough()).optional(),
        })
        .strict(),
    ),
  })
  .strict();
