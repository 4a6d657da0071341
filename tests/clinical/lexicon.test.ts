import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { KnowledgeError } from '../../src/model/problems.js';
import { compileLexicon, loadLexicon } from '../../src/clinical/lexicon.js';
import { CDS_SERVICES, knowledge } from './helpers.js';

const lex = knowledge().lexicon;

describe('medication-names.yaml', () => {
  it('lists every opioid ingredient of opioid-ingredients.json under its name, as an opioid', () => {
    const vs = JSON.parse(readFileSync(path.join(CDS_SERVICES, 'valuesets', 'opioid-ingredients.json'), 'utf8'));
    const names: string[] = vs.expansion.contains.map((c: { display: string }) => c.display);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(lex.classOf(n), n).toBe('opioid');
  });

  it('keeps glatiramer apart from interferon beta', () => {
    expect(lex.classOf('glatiramer')).toBe('glatiramer');
    expect(lex.ingredientsIn('Copaxone 20 mg/mL')).toEqual(['glatiramer']);
    expect(lex.ingredientsIn('Glatopa')).toEqual(['glatiramer']);
  });

  it('answers a text seen before the same way, and a caller changing its answer changes nothing', () => {
    const text = 'Tylenol with Codeine #3 and naltrexone 4.5 mg';
    const first = lex.ingredientsIn(text);
    expect(first).toEqual(expect.arrayContaining(['codeine', 'naltrexone']));
    first.push('oxycodone');
    expect(lex.ingredientsIn(text)).toEqual(first.slice(0, -1));
  });
});

describe('lexicon matching', () => {
  it.each([
    ['OxyContin 10 mg ER', ['oxycodone']],
    ['oxycontin', ['oxycodone']],
    ['Vicodin 5/300', ['hydrocodone']],
    ['Tylenol with Codeine #3', ['acetaminophen', 'codeine']],
    ['Suboxone film', ['buprenorphine', 'naloxone']],
    ['buprenorphine 10 mcg/hr transdermal patch', ['buprenorphine']],
    ['LDN 3mg', ['naltrexone']],
    ['low-dose naltrexone 4.5 mg', ['naltrexone']],
    ['Low Dose Naltrexone', ['naltrexone']],
    ['Contrave 8/90', ['bupropion', 'naltrexone']],
    ['Embeda 20/0.8', ['morphine', 'naltrexone']],
    ['Interferon beta-1a 30 micrograms intramuscular injection once weekly (Avonex)', ['interferon beta-1a']],
    ['interferon-β-1b', ['interferon beta-1b']],
    ['Plegridy pen', ['peginterferon beta-1a']],
    ['peginterferon beta-1a 125 mcg', ['peginterferon beta-1a']],
    ['Betaseron', ['interferon beta-1b']],
    ['metformin 500 mg', []],
  ])('finds the ingredients in %j', (text, expected) => {
    expect(lex.ingredientsIn(text)).toEqual(expected);
  });

  it('matches whole words only', () => {
    expect(lex.ingredientsIn('morphinexyz')).toEqual([]);
    expect(lex.ingredientsIn('xLDN')).toEqual([]);
    expect(lex.ingredientsIn('noxycodone')).toEqual([]);
  });

  it('recognises low-dose and compounded wording', () => {
    expect(lex.hasLowDoseWording('LDN 3mg')).toBe(true);
    expect(lex.hasLowDoseWording('naltrexone low-dose 3 mg')).toBe(true);
    expect(lex.hasLowDoseWording('naltrexone 50 mg tablet')).toBe(false);
    expect(lex.hasCompoundedWording('Naltrexone 4.5 mg capsule (compounded)')).toBe(true);
    expect(lex.hasCompoundedWording('Naltrexone 4.5 mg capsule')).toBe(false);
  });

  it('gives the canonical ingredient of a single name', () => {
    expect(lex.canonicalIngredient('OxyContin')).toBe('oxycodone');
    expect(lex.canonicalIngredient('Percocet')).toBeUndefined(); // two ingredients
  });
});

describe('lexicon validation', () => {
  const base = parseYaml(readFileSync(path.join(CDS_SERVICES, 'medication-names.yaml'), 'utf8'));

  function problems(data: unknown): KnowledgeError['problems'] {
    try {
      compileLexicon(data, 'medication-names.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(KnowledgeError);
      return (e as KnowledgeError).problems;
    }
    throw new Error('expected a KnowledgeError');
  }

  it('rejects an unknown class, naming the field', () => {
    const data = structuredClone(base);
    data.ingredients[0].class = 'painkiller';
    expect(problems(data)).toEqual([expect.objectContaining({ file: 'medication-names.yaml', field: 'ingredients[0].class' })]);
  });

  it('rejects a brand whose ingredient is not listed, and an unknown source', () => {
    const data = structuredClone(base);
    data.brands.push({ name: 'Madeup', ingredients: ['unobtainium'], source: 'nowhere' });
    const i = data.brands.length - 1;
    expect(problems(data)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: `brands[${i}].ingredients[0]` }),
        expect.objectContaining({ field: `brands[${i}].source` }),
      ]),
    );
  });

  it('reports an unreadable file as a KnowledgeError naming it', () => {
    expect(() => loadLexicon('/nonexistent/medication-names.yaml')).toThrow(KnowledgeError);
    expect(() => loadLexicon('/nonexistent/medication-names.yaml')).toThrow(/medication-names\.yaml: cannot be read/);
  });
});
