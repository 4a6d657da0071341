/**
 * Clinical facts: the normalised, one-pass view of a patient that rules read.
 * Produced by src/clinical (from the Chart that src/data assembles), consumed by src/rules.
 * Everything here is plain JSON data, so FHIRPath expressions in rule files can read it directly
 * (e.g. `%focus.where(naltrexoneRole = 'ldn')`).
 */

import type { HookName } from './hooks.js';

/** A coding reduced to what matching needs. */
export interface CodeRef {
  system: string;
  code: string;
  display?: string;
}

export interface IngredientFact {
  /** Lower-case ingredient name, e.g. "naltrexone", "morphine". */
  name: string;
  codes: CodeRef[];
  /** Strength per unit in mg, when known (e.g. 4.5 for a 4.5 mg capsule; mg per mL for liquids). */
  strengthMg?: number;
  /** Unit the strength is per, e.g. "capsule", "mL", "tablet". */
  strengthPer?: string;
}

/**
 * Naltrexone roles are kept apart (terminology.md §1.2):
 * - `ldn`: naltrexone the sole active ingredient and daily dose <= 5 mg, or low-dose wording ("LDN", "low dose").
 * - `full-dose`: 50 mg tablet, 380 mg injection, or a known daily dose > 5 mg without low-dose wording.
 * - `unknown-dose`: naltrexone alone but the dose cannot be read.
 * - `bupropion-combination`: bupropion/naltrexone (Contrave): contains naltrexone, is not LDN.
 * Opioid/naltrexone products (Embeda, Troxyca) get no naltrexone role: they are opioids (`isOpioid`).
 */
export type NaltrexoneRole = 'ldn' | 'full-dose' | 'unknown-dose' | 'bupropion-combination';

export type MedicationSource = 'draft-order' | 'medication-statement' | 'medication-request';

export interface MedicationFact {
  /** Relative reference of the resource, e.g. "MedicationRequest/request-123". */
  ref: string;
  resourceType: 'MedicationStatement' | 'MedicationRequest';
  source: MedicationSource;
  /** Human-readable name for cards: Medication.code.text / coding display / ingredient names. */
  name: string;
  /**
   * A short clinical label for card summaries (read in two seconds): the recognised ingredients, with the daily
   * dose for naltrexone, e.g. "LDN 4.5 mg/day", "naltrexone 50 mg/day", "oxycodone", "interferon beta-1a";
   * the name when no ingredient is recognised.
   */
  label: string;
  codes: CodeRef[];
  ingredients: IngredientFact[];
  isNaltrexone: boolean;
  naltrexoneRole?: NaltrexoneRole;
  isOpioid: boolean;
  isInterferonBeta: boolean;
  isGlatiramer: boolean;
  /** Contains samidorphan (olanzapine/samidorphan, Lybalvi): an opioid antagonist whose label contraindicates opioids. */
  isSamidorphan: boolean;
  /** An antispasticity drug (baclofen, tizanidine, dantrolene, nabiximols): a sign of spasticity. */
  isAntispasticity: boolean;
  /**
   * Days a single dose keeps acting, for long-acting products: 28 for extended-release injectable naltrexone (the
   * Vivitrol label: it "blocks the effects of exogenous opioids for approximately 28 days after administration").
   * A past dose given fewer days ago than this is still `current`.
   */
  actionDays?: number;
  /**
   * The dose as stated in the chart, for cards: "4.5 mg/day", "380 mg every 4 weeks", "4.5 mg, frequency not
   * stated", or "dose not stated". Never a dose the chart does not give.
   */
  doseDisplay: string;
  /** Dose per administration, mg, when it is stated (structured or sig text); absent when the chart gives no amount. */
  doseMg?: number;
  /** Daily dose of the first step of a titration (the lowest sequence, or the structured first step); else dailyDoseMg. */
  startDailyDoseMg?: number;
  /** Highest daily dose in mg (dose x administrations per day) the order reaches, when it is stated. */
  dailyDoseMg?: number;
  /** How the daily dose was obtained: from structured dosage, from free text, or assumed (1 unit once daily). */
  doseBasis?: 'structured' | 'text' | 'assumed';
  /** Administrations per day, when it can be read. */
  frequencyPerDay?: number;
  /** True when timing says bedtime/night (when: HS, "at bedtime", "nightly"); false when it says otherwise; absent when unknown. */
  atBedtime?: boolean;
  route?: string;
  /** Resource status as sent (draft, active, completed, stopped, not-taken, entered-in-error...). */
  status: string;
  /** Taken now or intended (MedicationStatement active/intended/on-hold/unknown within its period; MedicationRequest active/on-hold; every draft order). */
  current: boolean;
  /** Taken in the past and now stopped/completed (or its period ended). */
  past: boolean;
  /** Ignored for clinical purposes: entered-in-error, not-taken, cancelled, refuted. Kept so tests can see why. */
  excluded: boolean;
  effectiveStart?: string;
  effectiveEnd?: string;
  /** Last date the drug was (or is recorded as) taken, ISO date, for past medications. */
  lastUseDate?: string;
  /** Whole days between lastUseDate and the evaluation date. */
  daysSinceLastUse?: number;
  /** Dosage text as sent (sig), for display. */
  doseText?: string;
}

export interface ConditionFact {
  ref: string;
  name: string;
  codes: CodeRef[];
  isMultipleSclerosis: boolean;
  isSpasticity: boolean;
  /**
   * Opioid use disorder, dependence or withdrawal (valuesets/opioid-use-disorder.json), not in remission; the set's
   * poisoning and adverse-effect codes do not count (an event, not dependence).
   */
  isOpioidUseDisorder: boolean;
  /**
   * Set on a spasticity fact that is not on the problem list but inferred from a current antispasticity drug
   * (the drug's name); cards must say the spasticity is inferred.
   */
  inferredFrom?: string;
  /**
   * Clinically active (clinicalStatus active/recurrence/relapse or absent, not abated) and not refuted/entered-in-error.
   * Multiple sclerosis in remission is still active MS (a relapsing disease stays MS between relapses).
   */
  active: boolean;
}

export interface PatientFacts {
  hook: HookName;
  /**
   * Evaluation date (YYYY-MM-DD, UTC). Every date comparison in facts is day-granular, so facts are a pure
   * function of the chart and this date (which is what lets the engine memoise evaluations exactly).
   */
  now: string;
  /**
   * What the call is about: on order hooks the draft orders (for order-select, the selected ones);
   * on patient-view the patient's current medications.
   */
  focus: MedicationFact[];
  /** All draft orders in the call (order hooks), selected or not. */
  orders: MedicationFact[];
  /**
   * The patient's medication list: MedicationStatements and non-draft MedicationRequests, excluded ones removed.
   * `medications` and `orders` never share an item, and `focus` is a subset of one of them, so rules join them with
   * `%medications.combine(%orders)`: FHIRPath's `|` would de-duplicate by deep-hashing every item, for nothing.
   */
  medications: MedicationFact[];
  conditions: ConditionFact[];
}
