/**
 * The hooks this service answers and the context fields a prefetch template may name: the one list of hooks
 * (CDS Hooks Library: patient-view, order-select, order-sign), which every schema and table is keyed by.
 */
export const SUPPORTED_HOOKS = ['patient-view', 'order-select', 'order-sign'] as const;

export type HookName = (typeof SUPPORTED_HOOKS)[number];

/** Context fields that are prefetch tokens, per hook (hooks library: only root-level primitive fields). */
export const CONTEXT_TOKENS: Record<HookName, readonly string[]> = {
  'patient-view': ['userId', 'patientId', 'encounterId'],
  'order-select': ['userId', 'patientId', 'encounterId'],
  'order-sign': ['userId', 'patientId', 'encounterId'],
};
/** The prefetch tokens derived from context.userId (CDS Hooks 2.0 §3). */
export const USER_TOKENS = ['userPractitionerId', 'userPractitionerRoleId', 'userPatientId', 'userRelatedPersonId'] as const;
