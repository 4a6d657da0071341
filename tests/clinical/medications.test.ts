import { describe, expect, it } from 'vitest';
import { MEDICATION_PATHS, normaliseMedication } from '../../src/clinical/medications.js';
import { ATC, chart, draft, evaluate, extractor, fact, knowledge, NOW, rx, statement, UCUM } from './helpers.js';

const bedtimeDaily = { timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] } } };

describe('naltrexone classification', () => {
  it('classifies compounded free-text LDN as ldn with dose and bedtime from the sig', () => {
    const f = fact(draft('a', { text: 'Naltrexone 4.5 mg capsule (compounded)' }, { dosageInstruction: [{ text: 'take 1 capsule at bedtime' }] }));
    expect(f).toMatchObject({ isNaltrexone: true, naltrexoneRole: 'ldn', isOpioid: false, doseMg: 4.5, dailyDoseMg: 4.5, atBedtime: true });
    expect(f.ingredients).toEqual([{ name: 'naltrexone', codes: [], strengthMg: 4.5, strengthPer: 'capsule' }]);
  });

  it('classifies "LDN 3mg" (no naltrexone word, no dosage) as ldn and says the dose is not stated', () => {
    const f = fact(draft('a', { text: 'LDN 3mg' }));
    expect(f).toMatchObject({ isNaltrexone: true, naltrexoneRole: 'ldn', name: 'LDN 3mg', doseDisplay: 'dose not stated', label: 'LDN (dose not stated)' });
    expect(f.dailyDoseMg).toBeUndefined();
    expect(f.doseMg).toBeUndefined();
  });

  it('reads a contained Medication with ingredient 7243 and strength 4.5 mg/capsule', () => {
    const resource = {
      ...draft('a', undefined, { dosageInstruction: [{ text: '4.5 mg by mouth at bedtime', ...bedtimeDaily, doseAndRate: [{ doseQuantity: { value: 1, unit: 'capsule' } }] }] }),
      contained: [
        {
          resourceType: 'Medication',
          id: 'ldn',
          code: { text: 'Naltrexone HCl 4.5 mg oral capsule (compounded)' },
          ingredient: [
            {
              itemCodeableConcept: { coding: [rx('7243', 'naltrexone')] },
              isActive: true,
              strength: { numerator: { value: 4.5, unit: 'mg', system: UCUM, code: 'mg' }, denominator: { value: 1, unit: 'capsule' } },
            },
          ],
        },
      ],
      medicationReference: { reference: '#ldn' },
    };
    const facts = extractor()(chart('order-sign', { draftOrders: [resource] }), NOW);
    expect(facts.focus[0]).toMatchObject({
      name: 'Naltrexone HCl 4.5 mg oral capsule (compounded)',
      isNaltrexone: true,
      naltrexoneRole: 'ldn',
      doseMg: 4.5,
      dailyDoseMg: 4.5,
      doseBasis: 'structured',
      atBedtime: true,
      ingredients: [{ name: 'naltrexone', codes: [rx('7243', 'naltrexone')], strengthMg: 4.5, strengthPer: 'capsule' }],
    });
  });

  it('reads a bundled Medication through medicationReference', () => {
    const medication = { resourceType: 'Medication', id: 'm1', code: { coding: [rx('1483744', 'naltrexone hydrochloride 50 MG Oral Tablet')] } };
    const order = draft('a', undefined, { medicationReference: { reference: 'Medication/m1' }, dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }] }] });
    const facts = extractor()(chart('order-sign', { draftOrders: [order], medications: new Map([['Medication/m1', medication]]) }), NOW);
    expect(facts.focus[0]).toMatchObject({ isNaltrexone: true, naltrexoneRole: 'full-dose', doseMg: 50, dailyDoseMg: 50 });
  });

  it('gives 50 mg tablet 1483744 the full-dose role', () => {
    expect(fact(draft('a', { coding: [rx('1483744')] })).naltrexoneRole).toBe('full-dose');
  });

  it('keeps 1483744 full-dose by its code when the dose cannot be read', () => {
    const f = fact(draft('a', { coding: [rx('1483744')] }, { dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: 2, unit: 'mL' } }] }] }));
    expect(f.dailyDoseMg).toBeUndefined();
    expect(f.naltrexoneRole).toBe('full-dose');
  });

  it('keeps a compounded naltrexone of 4.5 mg per capsule ldn even when the sig adds up to more than 5 mg a day', () => {
    const f = fact(draft('a', { text: 'Naltrexone 4.5 mg capsule (compounded)' }, { dosageInstruction: [{ text: '2 capsules twice daily' }] }));
    expect(f).toMatchObject({ dailyDoseMg: 18, naltrexoneRole: 'ldn' });
    // A 4.5 mg unit is a low strength (no such product is marketed): LDN by its strength, whatever the words.
    const notCompounded = fact(draft('b', { text: 'Naltrexone 4.5 mg capsule' }, { dosageInstruction: [{ text: '2 capsules twice daily' }] }));
    expect(notCompounded.naltrexoneRole).toBe('ldn');
  });

  it('does not call a 50 mg dose every 14 days ldn although it averages under 5 mg a day', () => {
    const f = fact(draft('a', { text: 'naltrexone' }, { dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: 50, code: 'mg' } }], timing: { repeat: { frequency: 1, period: 14, periodUnit: 'd' } } }] }));
    expect(f.dailyDoseMg).toBeLessThan(5);
    expect(f.naltrexoneRole).toBe('full-dose');
  });

  it('gives 380 mg injection 637213 the full-dose role even with a monthly schedule', () => {
    const f = fact(draft('a', { coding: [rx('637213', 'naltrexone 380 MG Injection')] }, { dosageInstruction: [{ timing: { repeat: { frequency: 1, period: 4, periodUnit: 'wk' } } }] }));
    expect(f).toMatchObject({ naltrexoneRole: 'full-dose', actionDays: 28, doseDisplay: 'dose not stated', label: 'naltrexone (dose not stated)' });
    expect(f.doseMg).toBeUndefined(); // one 380 mg unit is not assumed as a dose
  });

  it('keeps 1483744 ordered at a sub-tablet 4.5 mg dose as ldn (terminology.md §1.3 pattern 1)', () => {
    const f = fact(draft('a', { coding: [rx('1483744')] }, { dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: 4.5, code: 'mg' } }], ...bedtimeDaily }] }));
    expect(f.naltrexoneRole).toBe('ldn');
  });

  it('keeps low-dose wording ldn even when the dose reads above 5 mg', () => {
    const f = fact(draft('a', { text: 'Low dose naltrexone' }, { dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: 6, code: 'mg' } }] }] }));
    expect(f).toMatchObject({ naltrexoneRole: 'ldn', dailyDoseMg: 6 });
  });

  it('makes naltrexone 12 mg/day without low-dose wording full-dose, and without any dose unknown-dose', () => {
    expect(fact(draft('a', { text: 'naltrexone' }, { dosageInstruction: [{ text: '6 mg twice daily' }] })).naltrexoneRole).toBe('full-dose');
    expect(fact(draft('a', { text: 'naltrexone' })).naltrexoneRole).toBe('unknown-dose');
    expect(fact(draft('a', { coding: [rx('7243', 'naltrexone')] })).naltrexoneRole).toBe('unknown-dose');
  });

  it('treats Embeda 863845 as an opioid with no naltrexone role', () => {
    const f = fact(draft('a', { coding: [rx('863845', 'Abuse-Deterrent morphine sulfate 100 MG / naltrexone hydrochloride 4 MG Extended Release Oral Capsule')] }));
    expect(f).toMatchObject({ isOpioid: true, isNaltrexone: true });
    expect(f.naltrexoneRole).toBeUndefined();
    expect(f.doseMg).toBeUndefined(); // no dosage: no dose is assumed
  });

  it('treats a historical Troxyca code and text-only "Embeda" as opioids, not LDN', () => {
    const troxyca = fact(draft('a', { coding: [rx('1806707')] }));
    expect(troxyca).toMatchObject({ isOpioid: true, isNaltrexone: true });
    expect(troxyca.naltrexoneRole).toBeUndefined();
    const embedaText = fact(draft('b', { text: 'Embeda 20 mg-0.8 mg capsule' }));
    expect(embedaText).toMatchObject({ isOpioid: true, isNaltrexone: true });
    expect(embedaText.naltrexoneRole).toBeUndefined();
  });

  it('gives Contrave 1551468 (and text "Contrave") the bupropion-combination role, not opioid', () => {
    for (const concept of [{ coding: [rx('1551468')] }, { text: 'Contrave 8 mg-90 mg ER tablet' }]) {
      const f = fact(draft('a', concept));
      expect(f).toMatchObject({ isNaltrexone: true, naltrexoneRole: 'bupropion-combination', isOpioid: false });
    }
  });
});

describe('opioid classification', () => {
  it('codeine cough syrup 995868 (in opioids-all only) is an opioid', () => {
    const f = fact(statement('s', { coding: [rx('995868', 'codeine phosphate 2 MG/ML / guaifenesin 20 MG/ML Oral Solution')] }), 'medication-statement');
    expect(f.isOpioid).toBe(true);
    expect(f.ingredients.map((i) => i.name)).toEqual(['codeine']);
    expect(knowledge().valueSets.has('opioid-analgesics-cdc', rx('995868'))).toBe(false);
  });

  it('oxycodone 1049621 is an opioid (it is in both opioids-all and the CDC set)', () => {
    const vs = knowledge().valueSets;
    expect(vs.has('opioids-all', rx('1049621'))).toBe(true);
    expect(vs.has('opioid-analgesics-cdc', rx('1049621'))).toBe(true);
    expect(fact(statement('s', { coding: [rx('1049621')] }), 'medication-statement').isOpioid).toBe(true);
  });

  it.each([
    ['buprenorphine 10 mcg/hr transdermal patch, apply weekly'],
    ['Butrans 5 mcg/hour patch'],
    ['methadone 10 mg tablet'],
    ['Methadose oral concentrate'],
    ['tramadol 50 mg'],
    ['Ultram'],
    ['Percocet 5/325'],
  ])('text-only %j is an opioid', (text) => {
    expect(fact(statement('s', { text }), 'medication-statement')).toMatchObject({ isOpioid: true, isNaltrexone: false });
  });

  it('an ATC-coded N07BC02 (methadone) is an opioid via the N07BC group', () => {
    expect(fact(statement('s', { coding: [{ system: ATC, code: 'N07BC02' }] }), 'medication-statement').isOpioid).toBe(true);
  });

  it('an ingredient-level RxNorm code (7052 morphine) is an opioid and gets its name from the value set', () => {
    const f = fact(statement('s', { coding: [rx('7052')] }), 'medication-statement');
    expect(f).toMatchObject({ isOpioid: true, ingredients: [{ name: 'morphine' }] });
  });
});

describe('interferon beta and glatiramer', () => {
  it('text-only "Interferon beta-1a … once weekly (Avonex)" is interferon beta, weekly', () => {
    const f = fact(statement('s', { text: 'Interferon beta-1a 30 micrograms intramuscular injection once weekly (Avonex)' }), 'medication-statement');
    expect(f).toMatchObject({ isInterferonBeta: true, isGlatiramer: false, isOpioid: false, isNaltrexone: false });
    expect(f.frequencyPerDay).toBeCloseTo(1 / 7, 5);
  });

  it('an openFDA Avonex RxCUI and the ATC L03AB07 are interferon beta', () => {
    expect(fact(statement('s', { coding: [rx('727813')] }), 'medication-statement').isInterferonBeta).toBe(true);
    expect(fact(statement('s', { coding: [{ system: ATC, code: 'L03AB07' }] }), 'medication-statement').isInterferonBeta).toBe(true);
  });

  it('Copaxone text is glatiramer, not interferon', () => {
    const f = fact(statement('s', { text: 'Copaxone 40 mg/mL subcutaneous three times weekly' }), 'medication-statement');
    expect(f).toMatchObject({ isGlatiramer: true, isInterferonBeta: false });
  });
});

describe('other medications', () => {
  it('metformin is none of the classes', () => {
    const f = fact(statement('s', { coding: [rx('860975', 'metformin hydrochloride 500 MG Oral Tablet')] }), 'medication-statement');
    expect(f).toMatchObject({ isOpioid: false, isNaltrexone: false, isInterferonBeta: false, isGlatiramer: false, ingredients: [] });
    expect(f.naltrexoneRole).toBeUndefined();
  });

  it('a draft with no medication yet (sandbox before a drug is chosen) is harmless', () => {
    const f = fact({ resourceType: 'MedicationRequest', id: 'request-123', status: 'draft', subject: { reference: 'Patient/p' }, authoredOn: '2026-11-21' });
    expect(f).toMatchObject({ name: 'Unnamed medication', isOpioid: false, isNaltrexone: false, current: true });
  });

  it('survives malformed fields without throwing', () => {
    const weird = { resourceType: 'MedicationStatement', id: 'w', status: 42, medicationCodeableConcept: 'oxycodone', dosage: 'daily', effectivePeriod: { end: 'not a date' } };
    expect(() => fact(weird, 'medication-statement')).not.toThrow();
  });
});

describe('FHIRPath reads', () => {
  it('agree with fhirpath.evaluate on the same resource', () => {
    const resource = statement('s', { coding: [rx('1049621', 'Oxycodone Hydrochloride 5 MG Oral Tablet')], text: 'Oxycodone 5 mg' }, {
      status: 'completed',
      effectivePeriod: { start: '2026-01-01', end: '2026-11-16' },
      dosage: [{ text: '1 tablet every 6 hours' }],
    });
    const base = normaliseMedication({ resource, source: 'medication-statement' }, knowledge());
    const read = (key: keyof typeof MEDICATION_PATHS): unknown[] => evaluate(resource, MEDICATION_PATHS[key]);
    expect(read('status')).toEqual([base.fact.status]);
    expect(read('conceptCodings')).toEqual(base.fact.codes);
    expect(read('conceptText')).toEqual([base.fact.name]);
    expect(read('effectiveEnd')).toEqual([base.fact.effectiveEnd]);
    expect(read('effectiveStart')).toEqual([base.fact.effectiveStart]);
    expect(read('statementDosage').map((d) => (d as { text: string }).text)).toEqual([base.fact.doseText]);
  });

  it('do not change the resource (it can be serialised back unchanged)', () => {
    const resource = draft('a', { text: 'LDN 4.5 mg' }, { dosageInstruction: [{ text: 'at bedtime' }] });
    const before = JSON.stringify(resource);
    fact(resource);
    expect(JSON.stringify(resource)).toBe(before);
  });
});

describe('short clinical labels for card summaries', () => {
  it.each([
    ['compounded LDN text with a bedtime sig', 'LDN 4.5 mg/day', draft('a', { text: 'Naltrexone 4.5 mg capsule (compounded)' }, { dosageInstruction: [{ text: '4.5 mg at bedtime' }] })],
    ['the 50 mg tablet, once daily', 'naltrexone 50 mg/day', draft('b', { coding: [rx('1483744', 'naltrexone hydrochloride 50 MG Oral Tablet')] }, { dosageInstruction: [{ text: '1 tablet daily' }] })],
    ['oxycodone by RxNorm code', 'oxycodone', statement('c', { coding: [rx('1049621', 'Oxycodone Hydrochloride 5 MG Oral Tablet')] })],
    ['codeine cough syrup (guaifenesin is not named)', 'codeine', statement('d', { coding: [rx('995868', 'codeine phosphate 2 MG/ML / guaifenesin 20 MG/ML Oral Solution')] })],
    ['text-only Avonex', 'interferon beta-1a', statement('e', { text: 'Interferon beta-1a 30 micrograms intramuscular injection once weekly (Avonex)' })],
    ['Embeda (an opioid that contains naltrexone)', 'morphine/naltrexone', draft('f', { coding: [rx('863845')] })],
    ['a drug the lexicon does not know keeps its name', 'Metformin 500 mg tablet', draft('g', { text: 'Metformin 500 mg tablet' })],
  ])('%s → "%s"', (_what, label, resource) => {
    expect(fact(resource).label).toBe(label);
  });
});

describe('medication names are kept whole', () => {
  const CONTRAVE = '12 HR bupropion hydrochloride 90 MG / naltrexone hydrochloride 8 MG Extended Release Oral Tablet [Contrave]';
  it('a 107-character RxNorm name (Contrave) is not cut mid-brand', () => {
    expect(CONTRAVE.length).toBeGreaterThan(100);
    expect(fact(draft('c', { text: CONTRAVE })).name).toBe(CONTRAVE);
  });

  it('runaway free text is bounded at a word boundary, never inside a word', () => {
    const name = fact(draft('r', { text: `Naltrexone ${'compounded capsule '.repeat(40)}` })).name;
    expect(name.length).toBeLessThanOrEqual(300);
    expect(name).toMatch(/ (compounded|capsule)…$/);
  });
});
