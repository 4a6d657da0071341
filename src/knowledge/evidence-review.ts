/**
 * Evidence review: a warning or critical card interrupts a prescriber, so when every source it cites is weak
 * (unverified, or expert opinion or a consumer article at best), the rule must carry an explicit
 * `evidenceReviewed` note saying what the evidence is and why the card is still warranted. The note is shown on
 * the rule's evidence page (src/web/evidence/pages.ts). Without it the pack does not start, naming the rule.
 */
import type { EvidenceCatalogue, EvidenceEntry } from './evidence.js';

/** Strengths that alone do not carry an interrupting card. */
export const WEAK_STRENGTHS: ReadonlySet<EvidenceEntry['strengthOfEvidence']> = new Set(['expert opinion', 'consumer health article', 'theoretical / expert opinion']);

/** Whether an entry is weak: its identifiers unverified, or its strength expert opinion or a consumer article. */
export function isWeakEvidence(entry: EvidenceEntry): boolean {
  return entry.verification.status === 'unverified' || WEAK_STRENGTHS.has(entry.strengthOfEvidence);
}

/**
 * The problem with a rule's evidence review, if any: a warning/critical card citing only weak evidence and no
 * `evidenceReviewed` note. Unknown evidence ids are reported elsewhere (compile.ts) and ignored here.
 */
export function evidenceReviewProblem(
  rule: { indicator: 'info' | 'warning' | 'critical'; evidenceIds: readonly string[]; evidenceReviewed?: string },
  catalogue: EvidenceCatalogue,
): string | undefined {
  if (rule.indicator === 'info' || rule.evidenceReviewed) return undefined;
  const entries = rule.evidenceIds.map((id) => catalogue.get(id));
  if (entries.length === 0 || entries.some((e) => e === undefined)) return undefined;
  const known = entries as EvidenceEntry[];
  if (!known.every(isWeakEvidence)) return undefined;
  const list = known.map((e) => `${e.id} (${e.strengthOfEvidence}, ${e.verification.status})`).join(', ');
  return (
    `a ${rule.indicator} card whose evidence is all unverified or expert-opinion/consumer-article strength (${list}) needs an ` +
    '`evidenceReviewed` note: say what the evidence is and why the card is still warranted (e.g. label-based, expert consensus), ' +
    'or cite stronger evidence, or make the card info'
  );
}
