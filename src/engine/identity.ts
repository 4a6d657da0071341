/**
 * What a card is about, in forms that can be stored without PHI: the drug pair (lower-case ingredient names, e.g.
 * "naltrexone+oxycodone") and keyed hashes of the draft orders. Used for suppression, select→sign coordination
 * and the audit log.
 */
import type { MedicationFact, PatientFacts } from '../model/facts.js';
import type { CardDraft } from '../model/cards.js';
import { patientHash } from '../observability/logger.js';

export function drugKey(draft: CardDraft, facts: PatientFacts): string {
  const subjects = new Set(draft.subjects);
  const names = new Set<string>();
  const visit = (m: MedicationFact) => {
    if (!subjects.has(m.ref)) return;
    if (m.ingredients.length) for (const i of m.ingredients) names.add(i.name.toLowerCase());
    else names.add(m.label.toLowerCase());
  };
  facts.orders.forEach(visit);
  facts.medications.forEach(visit);
  return [...names].sort().join('+');
}

export function orderKeys(draft: CardDraft, facts: PatientFacts, hashKey: string, patientId: string): string[] {
  const orders = new Set(facts.orders.map((o) => o.ref));
  return draft.subjects.filter((ref) => orders.has(ref)).map((ref) => patientHash(hashKey, `${patientId}|${ref}`));
}
