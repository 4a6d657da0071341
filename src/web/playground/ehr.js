/**
 * The playground's small EHR model, free of the DOM (tested in node): the chart a hook request describes, the
 * request an EHR would send for a hook, suggestions applied to the draft orders (CDS Hooks 2.0 §5 actions), the
 * feedback bodies (§6), and plain-language summaries of FHIR resources for display.
 */

export const HOOKS = ['order-select', 'order-sign', 'patient-view'];

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const refOf = (r) => (isObject(r) && typeof r.resourceType === 'string' && typeof r.id === 'string' ? `${r.resourceType}/${r.id}` : undefined);

/** A random UUID (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function uuid() {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Resources of a Bundle's entries (missing or malformed parts are skipped). */
export function bundleResources(bundle) {
  if (!isObject(bundle) || !Array.isArray(bundle.entry)) return [];
  return bundle.entry.map((e) => (isObject(e) ? e.resource : undefined)).filter(isObject);
}

/** Pasted text → a hook request object; throws an Error whose message says what is wrong. */
export function parseRequestText(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`Not valid JSON: ${error.message}`);
  }
  stateFromRequest(value); // validates
  return value;
}

/** A hook request → the EHR's state: who, which chart (prefetch) and which draft orders. */
export function stateFromRequest(request) {
  if (!isObject(request)) throw new Error('The hook request must be a JSON object');
  const context = isObject(request.context) ? request.context : {};
  if (typeof context.patientId !== 'string' || context.patientId === '') throw new Error('context.patientId is required');
  return {
    hook: HOOKS.includes(request.hook) ? request.hook : 'order-select',
    userId: typeof context.userId === 'string' ? context.userId : 'Practitioner/playground-user',
    patientId: context.patientId,
    ...(typeof context.encounterId === 'string' ? { encounterId: context.encounterId } : {}),
    ...(typeof request.fhirServer === 'string' ? { fhirServer: request.fhirServer } : {}),
    ...(isObject(request.fhirAuthorization) ? { fhirAuthorization: clone(request.fhirAuthorization) } : {}),
    prefetch: isObject(request.prefetch) ? clone(request.prefetch) : {},
    draftOrders: clone(bundleResources(context.draftOrders)),
    selections: Array.isArray(context.selections) ? context.selections.filter((s) => typeof s === 'string') : [],
  };
}

/** Why an EHR would not call `hook` for this state (order hooks need a draft order), or null. */
export function blockedReason(state, hook) {
  if (hook !== 'patient-view' && state.draftOrders.length === 0) {
    return `No draft order left: an EHR calls ${hook} only while an order is being entered.`;
  }
  return null;
}

/** The references selected at order-select: the original selections still present, else every draft. */
export function selectionsOf(state) {
  const present = new Set(state.draftOrders.map(refOf).filter(Boolean));
  const kept = state.selections.filter((s) => present.has(s));
  return kept.length ? kept : [...present];
}

/** The request an EHR sends for `hook` with this state. */
export function buildRequest(state, hook, hookInstance = uuid()) {
  const context = { userId: state.userId, patientId: state.patientId, ...(state.encounterId ? { encounterId: state.encounterId } : {}) };
  if (hook !== 'patient-view') {
    if (hook === 'order-select') context.selections = selectionsOf(state);
    context.draftOrders = { resourceType: 'Bundle', type: 'collection', entry: state.draftOrders.map((resource) => ({ resource: clone(resource) })) };
  }
  return {
    hook,
    hookInstance,
    ...(state.fhirServer ? { fhirServer: state.fhirServer } : {}),
    ...(state.fhirAuthorization ? { fhirAuthorization: clone(state.fhirAuthorization) } : {}),
    context,
    prefetch: clone(state.prefetch),
  };
}

/** The id of the discovered service serving `hook`, or undefined. */
export function serviceFor(hook, services) {
  return (Array.isArray(services) ? services : []).find((s) => s && s.hook === hook)?.id;
}

const ORDER = { delete: 0, create: 1, update: 2 };

/**
 * Apply a suggestion's actions to a copy of the state, in FHIR transaction order (deletes, creates, updates):
 * delete removes the draft order (by `resourceId`, or the deprecated id-in-`resource`), update replaces the
 * resource with the same type and id, create adds a new draft order. Returns the new state, what was done, and
 * what could not be done.
 */
export function applySuggestion(state, suggestion) {
  const next = { ...state, prefetch: clone(state.prefetch), draftOrders: clone(state.draftOrders), selections: [...state.selections] };
  const applied = [];
  const problems = [];
  const actions = Array.isArray(suggestion?.actions) ? [...suggestion.actions] : [];
  actions.sort((a, b) => (ORDER[a?.type] ?? 9) - (ORDER[b?.type] ?? 9));
  for (const action of actions) {
    const description = typeof action?.description === 'string' ? action.description : action?.type;
    if (action?.type === 'delete') {
      const ref = typeof action.resourceId === 'string' ? action.resourceId : typeof action.resource === 'string' ? action.resource : refOf(action.resource);
      if (ref && removeResource(next, ref)) applied.push(description);
      else problems.push(`delete: ${ref ?? '(no resourceId)'} is not in the chart`);
    } else if (action?.type === 'create') {
      if (!isObject(action.resource) || typeof action.resource.resourceType !== 'string') {
        problems.push('create: no resource');
        continue;
      }
      const resource = clone(action.resource);
      if (typeof resource.id !== 'string') resource.id = `playground-${uuid().slice(0, 8)}`;
      next.draftOrders.push(resource);
      next.selections.push(refOf(resource));
      applied.push(description);
    } else if (action?.type === 'update') {
      const ref = refOf(action.resource);
      if (ref && replaceResource(next, ref, clone(action.resource))) applied.push(description);
      else problems.push(`update: ${ref ?? '(no resource)'} is not in the chart`);
    } else problems.push(`unknown action type "${String(action?.type)}"`);
  }
  return { state: next, applied, problems };
}

function prefetchBundles(state) {
  return Object.values(state.prefetch).filter((b) => isObject(b) && b.resourceType === 'Bundle' && Array.isArray(b.entry));
}

function removeResource(state, ref) {
  const index = state.draftOrders.findIndex((r) => refOf(r) === ref);
  if (index !== -1) {
    state.draftOrders.splice(index, 1);
    state.selections = state.selections.filter((s) => s !== ref);
    return true;
  }
  for (const bundle of prefetchBundles(state)) {
    const at = bundle.entry.findIndex((e) => refOf(e?.resource) === ref);
    if (at !== -1) {
      bundle.entry.splice(at, 1);
      if (typeof bundle.total === 'number') bundle.total = bundle.entry.length;
      return true;
    }
  }
  return false;
}

function replaceResource(state, ref, resource) {
  const index = state.draftOrders.findIndex((r) => refOf(r) === ref);
  if (index !== -1) {
    state.draftOrders[index] = resource;
    return true;
  }
  for (const bundle of prefetchBundles(state)) {
    const entry = bundle.entry.find((e) => refOf(e?.resource) === ref);
    if (entry) {
      entry.resource = resource;
      return true;
    }
  }
  return false;
}

/** Feedback for an accepted suggestion (spec §6). */
export function acceptedFeedback(card, suggestion, now = new Date()) {
  return { feedback: [{ card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: suggestion.uuid }], outcomeTimestamp: now.toISOString() }] };
}

/** Feedback for a dismissed card, with the chosen override reason (a Coding from the card) if any. */
export function overriddenFeedback(card, reason, now = new Date()) {
  const item = { card: card.uuid, outcome: 'overridden', outcomeTimestamp: now.toISOString() };
  if (isObject(reason) && typeof reason.code === 'string') {
    item.overrideReason = { reason: { code: reason.code, ...(reason.system ? { system: reason.system } : {}), ...(reason.display ? { display: reason.display } : {}) } };
  }
  return { feedback: [item] };
}

/**
 * "2 cards: 1 critical, 1 warning" (most urgent first). With `suppressed` cards held back, never "nothing to say":
 * "No cards shown: 1 card held back (…)".
 */
export function cardCountText(cards, suppressed = 0, hook = 'order-select') {
  const list = Array.isArray(cards) ? cards : [];
  if (list.length === 0) return suppressed ? `No cards shown: ${suppressedText(suppressed, hook)}` : 'No cards: the service found nothing to say.';
  const counts = ['critical', 'warning', 'info'].map((i) => [i, list.filter((c) => c?.indicator === i).length]).filter(([, n]) => n > 0);
  const shown = `${list.length} card${list.length === 1 ? '' : 's'}: ${counts.map(([i, n]) => `${n} ${i}`).join(', ')}`;
  return suppressed ? `${shown}. ${suppressedText(suppressed, hook)}` : shown;
}

// ---------------------------------------------------------------------------------------------------------------
// Display summaries

const text = (cc) => (isObject(cc) ? cc.text ?? cc.coding?.find((c) => c?.display)?.display ?? cc.coding?.[0]?.code : undefined);

/** The medication's name: coded concept, contained or referenced Medication, or the reference itself. */
export function medicationName(resource) {
  if (!isObject(resource)) return 'Unknown medication';
  const named = text(resource.medicationCodeableConcept);
  if (named) return named;
  const ref = resource.medicationReference;
  if (isObject(ref)) {
    if (typeof ref.reference === 'string' && ref.reference.startsWith('#')) {
      const contained = (resource.contained ?? []).find((c) => c?.id === ref.reference.slice(1));
      const name = text(contained?.code);
      if (name) return name;
    }
    return ref.display ?? ref.reference ?? 'Unknown medication';
  }
  return 'Unknown medication';
}

const WHEN = { HS: 'at bedtime', MORN: 'in the morning', AFT: 'in the afternoon', EVE: 'in the evening', NIGHT: 'at night', AC: 'before meals', PC: 'after meals', C: 'with meals', WAKE: 'on waking' };
const UNITS = { d: 'day', wk: 'week', h: 'hour', mo: 'month', min: 'minute' };

/** "4.5 mg" from the first dosage's doseQuantity, or undefined. */
export function doseText(resource) {
  const dosage = firstDosage(resource);
  const q = dosage?.doseAndRate?.find((d) => isObject(d?.doseQuantity))?.doseQuantity;
  if (!isObject(q) || typeof q.value !== 'number') return undefined;
  return `${q.value} ${q.unit ?? q.code ?? ''}`.trim();
}

/** "once daily at bedtime" from timing.repeat, or undefined. */
export function timingText(resource) {
  const dosage = firstDosage(resource);
  const r = dosage?.timing?.repeat;
  const parts = [];
  if (isObject(r)) {
    const f = r.frequency;
    const p = r.period ?? 1;
    const unit = UNITS[r.periodUnit];
    if (typeof f === 'number' && unit) {
      if (p === 1 && unit === 'day') parts.push(f === 1 ? 'once daily' : f === 2 ? 'twice daily' : `${f} times a day`);
      else parts.push(`${f === 1 ? 'once' : `${f} times`} every ${p === 1 ? unit : `${p} ${unit}s`}`);
    }
    if (Array.isArray(r.when)) parts.push(...r.when.map((w) => WHEN[w] ?? w));
  }
  if (dosage?.asNeededBoolean === true) parts.push('as needed');
  return parts.length ? parts.join(' ') : undefined;
}

function firstDosage(resource) {
  if (!isObject(resource)) return undefined;
  const list = resource.dosageInstruction ?? resource.dosage;
  return Array.isArray(list) && isObject(list[0]) ? list[0] : undefined;
}

/** A resource → { title, facts: [label, value][] } for the chart panels. */
export function describeResource(resource) {
  if (!isObject(resource)) return { title: 'Unreadable entry', facts: [] };
  const facts = [];
  const add = (label, value) => {
    if (value !== undefined && value !== null && value !== '') facts.push([label, String(value)]);
  };
  if (resource.resourceType === 'MedicationRequest' || resource.resourceType === 'MedicationStatement') {
    add('Dose', doseText(resource));
    add('When', timingText(resource));
    add('Sig', firstDosage(resource)?.text);
    add('Status', resource.status);
    const period = resource.effectivePeriod;
    if (isObject(period)) add('Period', period.end ? `${period.start ?? '?'} to ${period.end}` : `since ${period.start ?? '?'}`);
    else add('Since', resource.effectiveDateTime);
    add('Authored', resource.authoredOn);
    return { title: medicationName(resource), facts };
  }
  if (resource.resourceType === 'Condition') {
    add('Clinical status', resource.clinicalStatus?.coding?.[0]?.code);
    add('Verification', resource.verificationStatus?.coding?.[0]?.code);
    add('Onset', resource.onsetDateTime);
    return { title: text(resource.code) ?? 'Unnamed condition', facts };
  }
  add('Status', resource.status);
  return { title: `${resource.resourceType}${resource.id ? ` ${resource.id}` : ''}`, facts };
}

/** The chart's medications (statements and non-draft requests) and conditions from the prefetch. */
export function chartOf(state) {
  const resources = Object.values(state.prefetch).flatMap((v) => (isObject(v) && v.resourceType === 'Bundle' ? bundleResources(v) : []));
  return {
    medications: resources.filter((r) => r.resourceType === 'MedicationStatement' || r.resourceType === 'MedicationRequest'),
    conditions: resources.filter((r) => r.resourceType === 'Condition'),
  };
}

/** Patient banner data from prefetch.patient (when present) and the context's patient id. */
export function patientBanner(state, today = new Date()) {
  const p = isObject(state.prefetch.patient) && state.prefetch.patient.resourceType === 'Patient' ? state.prefetch.patient : {};
  const n = Array.isArray(p.name) ? p.name[0] : undefined;
  const name = n?.text ?? ([...(n?.given ?? []), n?.family ?? ''].join(' ').trim() || undefined);
  let age;
  if (typeof p.birthDate === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(p.birthDate)) {
    const b = new Date(`${p.birthDate}T00:00:00Z`);
    age = today.getUTCFullYear() - b.getUTCFullYear() - (today.getUTCMonth() * 100 + today.getUTCDate() < b.getUTCMonth() * 100 + b.getUTCDate() ? 1 : 0);
  }
  return { id: state.patientId, name: name ?? 'Synthetic patient (no name in the chart)', gender: p.gender, birthDate: p.birthDate, age };
}

// ---------------------------------------------------------------------------------------------------------------
// Editing the chart (medications and conditions), as a clinician would in an EHR before the order is selected

/** Short code prefixes the editor accepts ("rxnorm:1049621"), the same ones as fixtures/scenarios. */
export const CODE_SYSTEMS = {
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  atc: 'http://www.whocc.no/atc',
  snomed: 'http://snomed.info/sct',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
};
const UCUM = 'http://unitsofmeasure.org';

export const MEDICATION_STATUSES = {
  MedicationStatement: ['active', 'completed', 'stopped', 'on-hold', 'intended', 'not-taken', 'entered-in-error', 'unknown'],
  MedicationRequest: ['active', 'on-hold', 'completed', 'stopped', 'cancelled', 'draft', 'entered-in-error', 'unknown'],
};
export const CONDITION_CLINICAL_STATUSES = ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'];

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** "rxnorm:1049621" or "http://system|code" → a Coding; '' → undefined; anything else throws, saying what is expected. */
export function parseCode(value) {
  const v = String(value ?? '').trim();
  if (v === '') return undefined;
  const short = /^([a-z0-9]+):(\S+)$/i.exec(v);
  if (short && CODE_SYSTEMS[short[1].toLowerCase()]) return { system: CODE_SYSTEMS[short[1].toLowerCase()], code: short[2] };
  const full = /^(https?:\/\/\S+)\|(\S+)$/.exec(v);
  if (full) return { system: full[1], code: full[2] };
  throw new Error(`Code "${v}": write it as ${Object.keys(CODE_SYSTEMS).join(':…, ')}:… (e.g. rxnorm:1049621) or system-URL|code`);
}

/** A Coding → the text the editor shows for it (the short prefix when the system is one of CODE_SYSTEMS). */
export function codeText(coding) {
  if (!isObject(coding) || typeof coding.code !== 'string') return '';
  const prefix = Object.entries(CODE_SYSTEMS).find(([, system]) => system === coding.system)?.[0];
  return prefix ? `${prefix}:${coding.code}` : `${coding.system ?? ''}|${coding.code}`;
}

/** "4.5 mg" → { value: 4.5, unit: 'mg' }; '' → undefined; anything else throws. */
export function parseDose(value) {
  const v = String(value ?? '').trim();
  if (v === '') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z%µμ/[\]{}.0-9]+)$/.exec(v);
  if (!m) throw new Error(`Dose "${v}": write a number and a unit, e.g. 4.5 mg`);
  return { value: Number(m[1]), unit: m[2] };
}

function checkDate(label, value) {
  const v = String(value ?? '').trim();
  if (v !== '' && !DATE.test(v)) throw new Error(`${label} "${v}": use YYYY-MM-DD`);
  return v;
}

/** The editable fields of a medication (MedicationStatement or MedicationRequest). */
export function medicationFields(resource) {
  const r = isObject(resource) ? resource : {};
  const cc = isObject(r.medicationCodeableConcept) ? r.medicationCodeableConcept : {};
  const request = r.resourceType === 'MedicationRequest';
  return {
    name: typeof cc.text === 'string' ? cc.text : cc.coding?.find((c) => c?.display)?.display ?? (r.medicationReference ? medicationName(r) : ''),
    code: codeText(Array.isArray(cc.coding) ? cc.coding[0] : undefined),
    dose: doseText(r) ?? '',
    status: typeof r.status === 'string' ? r.status : 'active',
    start: (request ? r.authoredOn : r.effectivePeriod?.start ?? r.effectiveDateTime)?.slice?.(0, 10) ?? '',
    end: (request ? r.dispenseRequest?.validityPeriod?.end : r.effectivePeriod?.end)?.slice?.(0, 10) ?? '',
  };
}

/** The editable fields of a condition. */
export function conditionFields(resource) {
  const r = isObject(resource) ? resource : {};
  const cc = isObject(r.code) ? r.code : {};
  return {
    name: typeof cc.text === 'string' ? cc.text : cc.coding?.find((c) => c?.display)?.display ?? '',
    code: codeText(Array.isArray(cc.coding) ? cc.coding[0] : undefined),
    clinicalStatus: r.clinicalStatus?.coding?.[0]?.code ?? 'active',
    onset: typeof r.onsetDateTime === 'string' ? r.onsetDateTime.slice(0, 10) : '',
  };
}

function concept(fields, label) {
  const name = String(fields.name ?? '').trim();
  const coding = parseCode(fields.code);
  if (!name && !coding) throw new Error(`${label}: give a name or a code`);
  return { ...(coding ? { coding: [coding] } : {}), ...(name ? { text: name } : {}) };
}

/** The prefetch Bundle that holds `resourceType` entries (created as a searchset under `key` when absent). */
function bundleFor(state, key) {
  if (!isObject(state.prefetch[key]) || state.prefetch[key].resourceType !== 'Bundle') state.prefetch[key] = { resourceType: 'Bundle', type: 'searchset', entry: [] };
  if (!Array.isArray(state.prefetch[key].entry)) state.prefetch[key].entry = [];
  return state.prefetch[key];
}

function findInPrefetch(state, ref) {
  for (const bundle of prefetchBundles(state)) {
    const entry = bundle.entry.find((e) => refOf(e?.resource) === ref);
    if (entry) return entry;
  }
  return undefined;
}

function copyState(state) {
  return { ...state, prefetch: clone(state.prefetch), draftOrders: clone(state.draftOrders), selections: [...state.selections] };
}

function withTotal(bundle) {
  if (typeof bundle.total === 'number') bundle.total = bundle.entry.length;
}

/**
 * Add (ref undefined) or edit a medication of the chart. A new one is a MedicationStatement in prefetch.medications;
 * an edit changes only the fields shown (name, code, dose, status, dates) and keeps the rest (sig, timing).
 * Returns { state, ref }; throws an Error naming the field when a value is not usable.
 */
export function saveMedication(state, ref, fields) {
  const next = copyState(state);
  const entry = ref ? findInPrefetch(next, ref) : undefined;
  if (ref && !entry) throw new Error(`${ref} is not in the chart`);
  const resource = entry
    ? entry.resource
    : { resourceType: 'MedicationStatement', id: `playground-${uuid().slice(0, 8)}`, subject: { reference: `Patient/${state.patientId}` } };
  const request = resource.resourceType === 'MedicationRequest';
  const statuses = MEDICATION_STATUSES[request ? 'MedicationRequest' : 'MedicationStatement'];
  if (!statuses.includes(fields.status)) throw new Error(`Status "${fields.status}": one of ${statuses.join(', ')}`);
  const dose = parseDose(fields.dose);
  const start = checkDate('Start date', fields.start);
  const end = checkDate('End date', fields.end);
  if (start && end && end < start) throw new Error('End date is before the start date');

  resource.medicationCodeableConcept = concept(fields, 'Medication');
  delete resource.medicationReference;
  resource.status = fields.status;
  const key = request ? 'dosageInstruction' : 'dosage';
  const dosage = Array.isArray(resource[key]) && isObject(resource[key][0]) ? resource[key][0] : {};
  if (dose) dosage.doseAndRate = [{ doseQuantity: { value: dose.value, unit: dose.unit, system: UCUM, code: dose.unit } }];
  else delete dosage.doseAndRate;
  if (Object.keys(dosage).length) resource[key] = [dosage, ...(Array.isArray(resource[key]) ? resource[key].slice(1) : [])];
  else delete resource[key];
  if (request) {
    if (start) resource.authoredOn = start;
    else delete resource.authoredOn;
    if (end) resource.dispenseRequest = { ...(resource.dispenseRequest ?? {}), validityPeriod: { ...(resource.dispenseRequest?.validityPeriod ?? {}), end } };
    else if (resource.dispenseRequest?.validityPeriod) delete resource.dispenseRequest.validityPeriod.end;
  } else {
    delete resource.effectiveDateTime;
    if (start || end) resource.effectivePeriod = { ...(start ? { start } : {}), ...(end ? { end } : {}) };
    else delete resource.effectivePeriod;
  }
  if (!entry) {
    const bundle = bundleFor(next, 'medications');
    bundle.entry.push({ resource });
    withTotal(bundle);
  }
  return { state: next, ref: refOf(resource) };
}

/** Add (ref undefined) or edit a condition (prefetch.conditions); same contract as saveMedication. */
export function saveCondition(state, ref, fields) {
  const next = copyState(state);
  const entry = ref ? findInPrefetch(next, ref) : undefined;
  if (ref && !entry) throw new Error(`${ref} is not in the chart`);
  const resource = entry ? entry.resource : { resourceType: 'Condition', id: `playground-${uuid().slice(0, 8)}`, subject: { reference: `Patient/${state.patientId}` } };
  if (!CONDITION_CLINICAL_STATUSES.includes(fields.clinicalStatus)) throw new Error(`Clinical status "${fields.clinicalStatus}": one of ${CONDITION_CLINICAL_STATUSES.join(', ')}`);
  const onset = checkDate('Onset date', fields.onset);
  resource.code = concept(fields, 'Condition');
  resource.clinicalStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: fields.clinicalStatus }] };
  if (!resource.verificationStatus) resource.verificationStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] };
  if (onset) resource.onsetDateTime = onset;
  else delete resource.onsetDateTime;
  if (!entry) {
    const bundle = bundleFor(next, 'conditions');
    bundle.entry.push({ resource });
    withTotal(bundle);
  }
  return { state: next, ref: refOf(resource) };
}

/** Remove a medication or condition from the chart's prefetch. Throws when it is not there. */
export function removeFromChart(state, ref) {
  const next = copyState(state);
  for (const bundle of prefetchBundles(next)) {
    const at = bundle.entry.findIndex((e) => refOf(e?.resource) === ref);
    if (at !== -1) {
      bundle.entry.splice(at, 1);
      withTotal(bundle);
      return next;
    }
  }
  throw new Error(`${ref} is not in the chart`);
}

/** What the service said it held back: the response's `extension` "ldn-cds.suppressed" count (0 when absent). */
export function suppressedCount(response) {
  const n = isObject(response) && isObject(response.extension) ? response.extension['ldn-cds.suppressed'] : undefined;
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** The sentence for cards held back, or '' when none were. */
export function suppressedText(count, hook) {
  if (!count) return '';
  const why = hook === 'order-sign' ? 'acknowledged in an earlier override or already shown at order-select' : 'acknowledged in an earlier override for this patient';
  return `${count} card${count === 1 ? '' : 's'} held back (${why}).`;
}
