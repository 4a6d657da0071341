/** One card shown, as the audit log records it: its own file so audit.ts and audit-spill.ts need not import each other. */
import type { Indicator } from '../model/cards.js';
import type { ClientScope } from './scope.js';

export interface AuditEntry {
  cardUuid: string;
  suggestionUuids: string[];
  serviceId: string;
  ruleId: string;
  ruleVersion: string;
  concern: string;
  hook: string;
  hookInstance: string;
  indicator: Indicator;
  /** Keyed hash of the patient id (patientHash). */
  patientHash: string;
  /** Lower-case sorted drug names of the card's subjects joined by '+', e.g. "naltrexone+oxycodone". */
  drugKey: string;
  /** Keyed hashes of the draft-order references the card is about. */
  orderKeys: readonly string[];
  shownAt: Date;
  /** Who was shown the card, against which FHIR server (src/storage/scope.ts). */
  scope: ClientScope;
}
