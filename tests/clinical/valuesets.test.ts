import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KnowledgeError } from '../../src/model/problems.js';
import { loadClinicalKnowledge, REQUIRED_VALUE_SETS } from '../../src/clinical/extract.js';
import { icd10cmAncestry, loadValueSets, parseValueSet } from '../../src/clinical/valuesets.js';
import { ATC, CDS_SERVICES, ICD10CM, knowledge, RXNORM, SNOMED } from './helpers.js';

const SHARED_TERMINOLOGY = '/work/shared/terminology';

describe('value-set files', () => {
  it('are byte-identical copies of every shared ValueSet', () => {
    const shared = readdirSync(SHARED_TERMINOLOGY).filter((f) => f.endsWith('.json'));
    expect(shared.length).toBeGreaterThan(0);
    for (const f of shared) {
      expect(readFileSync(path.join(CDS_SERVICES, 'valuesets', f), 'utf8'), f).toBe(readFileSync(path.join(SHARED_TERMINOLOGY, f), 'utf8'));
    }
  });

  it('derived files hold only codes copied from their shared source, with identical entries', () => {
    const contains = (file: string): { code: string }[] => JSON.parse(readFileSync(file, 'utf8')).expansion.contains;
    const derived: [string, string][] = [
      ['naltrexone-bupropion-combinations.json', 'naltrexone-opioid-combinations.json'],
      ['naltrexone-full-dose.json', 'naltrexone.json'],
    ];
    for (const [file, source] of derived) {
      const src = contains(path.join(SHARED_TERMINOLOGY, source));
      for (const entry of contains(path.join(CDS_SERVICES, 'valuesets', file))) {
        expect(src.find((s) => s.code === entry.code), `${file} ${entry.code}`).toEqual(entry);
      }
    }
  });
});

describe('ValueSetIndex', () => {
  const vs = knowledge().valueSets;

  it('loads every required value set with its codes', () => {
    for (const id of REQUIRED_VALUE_SETS) expect(vs.ids).toContain(id);
    expect(vs.size('opioids-all')).toBe(410);
    expect(vs.size('opioid-ingredients')).toBe(23);
  });

  it('finds exact RxNorm and SNOMED CT members and rejects others', () => {
    expect(vs.has('opioids-all', { system: RXNORM, code: '995868' })).toBe(true);
    expect(vs.has('multiple-sclerosis', { system: SNOMED, code: '24700007' })).toBe(true);
    expect(vs.has('opioids-all', { system: RXNORM, code: '6809' })).toBe(false);
    // same code, wrong system
    expect(vs.has('multiple-sclerosis', { system: RXNORM, code: '24700007' })).toBe(false);
  });

  it('matches an ATC code through its group prefix (N02AA is in N02A, N07BC02 in N07BC)', () => {
    expect(vs.has('opioid-atc', { system: ATC, code: 'N02AA' })).toBe(true);
    expect(vs.has('opioid-atc', { system: ATC, code: 'N07BC02' })).toBe(true);
    expect(vs.has('opioid-atc', { system: ATC, code: 'R05DA04' })).toBe(true);
    expect(vs.has('opioid-atc', { system: ATC, code: 'R05DA09' })).toBe(false);
    expect(vs.has('opioid-atc', { system: ATC, code: 'N07BB04' })).toBe(false);
  });

  it('matches ICD-10-CM codes through their ancestors (G35.A, G35.D, G35.B1 are MS; G36 is not)', () => {
    expect(icd10cmAncestry('G35.B1')).toEqual(['G35.B1', 'G35.B', 'G35']);
    expect(icd10cmAncestry('G35B1')).toEqual(['G35.B1', 'G35.B', 'G35']);
    // G35.B (a subcategory header) and undotted G35A are not enumerated: they match through G35.
    expect(vs.has('multiple-sclerosis', { system: ICD10CM, code: 'G35.B' })).toBe(true);
    expect(vs.has('multiple-sclerosis', { system: ICD10CM, code: 'G35A' })).toBe(true);
    for (const code of ['G35', 'G35.A', 'G35.D', 'G35.B1', 'G35.C2']) expect(vs.has('multiple-sclerosis', { system: ICD10CM, code }), code).toBe(true);
    expect(vs.has('multiple-sclerosis', { system: ICD10CM, code: 'G36.0' })).toBe(false);
    expect(vs.has('spasticity', { system: ICD10CM, code: 'R25.2' })).toBe(true);
    expect(vs.has('spasticity', { system: ICD10CM, code: 'R25.1' })).toBe(false);
  });

  it('throws on an unknown value-set id (a programming error)', () => {
    expect(() => vs.has('no-such-set', { system: RXNORM, code: '7243' })).toThrow(/Unknown value set "no-such-set"/);
  });

  it('gives the display a value set holds for a code', () => {
    expect(vs.displayOf({ system: RXNORM, code: '7052' })).toBe('morphine');
    expect(vs.displayOf({ system: RXNORM, code: '1' })).toBeUndefined();
  });
});

describe('loading bad value-set files', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function copyPack(): string {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ldn-vs-'));
    cpSync(CDS_SERVICES, dir, { recursive: true });
    return dir;
  }

  function problemsOf(fn: () => unknown): KnowledgeError['problems'] {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(KnowledgeError);
      return (e as KnowledgeError).problems;
    }
    throw new Error('expected a KnowledgeError');
  }

  it('reports invalid JSON as a KnowledgeError naming the file', () => {
    const pack = copyPack();
    writeFileSync(path.join(pack, 'valuesets', 'naltrexone.json'), '{ "resourceType": "ValueSet", ');
    const problems = problemsOf(() => loadClinicalKnowledge(pack));
    expect(problems).toEqual([expect.objectContaining({ file: 'valuesets/naltrexone.json', message: expect.stringMatching(/not valid JSON/) })]);
  });

  it('reports a ValueSet whose id does not match its file name, and one without codes', () => {
    const pack = copyPack();
    const file = path.join(pack, 'valuesets', 'glatiramer.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), id: 'glatiramer-x' }));
    writeFileSync(path.join(pack, 'valuesets', 'spasticity.json'), JSON.stringify({ resourceType: 'ValueSet', id: 'spasticity', expansion: { contains: [] } }));
    const problems = problemsOf(() => loadClinicalKnowledge(pack));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'valuesets/glatiramer.json', field: 'id' }),
        expect.objectContaining({ file: 'valuesets/spasticity.json', message: expect.stringMatching(/no codes/) }),
      ]),
    );
  });

  it('reports a missing required value set by its file name', () => {
    const pack = copyPack();
    rmSync(path.join(pack, 'valuesets', 'interferon-beta.json'));
    expect(problemsOf(() => loadClinicalKnowledge(pack))).toEqual([expect.objectContaining({ file: 'valuesets/interferon-beta.json', message: expect.stringMatching(/missing/) })]);
  });

  it('reports a missing folder as a KnowledgeError', () => {
    expect(problemsOf(() => loadValueSets('/nonexistent/valuesets'))[0]).toMatchObject({ file: 'valuesets', message: expect.stringMatching(/cannot be read/) });
  });

  it('names the field of a code without a system', () => {
    const text = JSON.stringify({ resourceType: 'ValueSet', id: 'x', expansion: { contains: [{ code: '1' }] } });
    expect(problemsOf(() => parseValueSet('valuesets/x.json', text))).toEqual([{ file: 'valuesets/x.json', field: 'expansion.contains[0].system', message: expect.any(String) }]);
  });
});
