import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, test } from 'vitest';
import { evidenceUrls, loadEvidence, type EvidenceEntry } from '../../src/knowledge/evidence.js';
import { KNOWLEDGE_DIR, REPO_ROOT } from '../rules/project-rules.js';

const catalogue = loadEvidence(path.join(KNOWLEDGE_DIR, 'evidence.yaml'));
const entries = catalogue.all();

/** Evidence ids cited by the rule files, read straight from the YAML (independent of the rule loader). */
function citedIds(): { file: string; id: string }[] {
  const dir = path.join(KNOWLEDGE_DIR, 'rules');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) => {
      const rule = parseYaml(readFileSync(path.join(dir, file), 'utf8')) as { card: { evidence: (string | { id: string })[] } };
      return rule.card.evidence.map((c) => ({ file, id: typeof c === 'string' ? c : c.id }));
    });
}

describe('evidence catalogue', () => {
  test('holds the sources the cards rely on', () => {
    expect(entries.map((e) => e.id)).toEqual(
      expect.arrayContaining([
        'cree-2010',
        'sharafaddinzadeh-2010',
        'gironi-2008',
        'ludwig-2016',
        'raknes-2017',
        'toljan-vrooman-2018',
        'younger-parkitny-mclain-2014',
        'naltrexone-label-contraindications',
        'naltrexone-label-opioid-free-interval',
        'vivitrol-label-interaction-scope',
        'kim-ldn-ms',
        'ldn-ms-consumer-article',
        'va-mscoe-ldn',
      ]),
    );
  });

  test("every rule's evidence ids exist", () => {
    const cited = citedIds();
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.filter(({ id }) => !catalogue.get(id))).toEqual([]);
  });

  test('every address is https', () => {
    const urls = entries.flatMap(evidenceUrls).map((u) => u.url);
    expect(urls.length).toBeGreaterThan(10);
    expect(urls.filter((u) => !u.startsWith('https://'))).toEqual([]);
  });

  test('identifiers that terminology.md marks UNVERIFIED are left out', () => {
    expect(catalogue.get('sharafaddinzadeh-2010')?.pmid).toBeUndefined();
    expect(catalogue.get('sharafaddinzadeh-2010')?.verification.status).toBe('as-cited-in-seed');
    expect(catalogue.get('younger-parkitny-mclain-2014')?.pmid).toBeUndefined();
  });

  test('the seed mis-attribution of Younger 2014 is recorded', () => {
    expect(catalogue.get('younger-parkitny-mclain-2014')?.verification.note).toMatch(/Younger & Mackey \(2014\)".*mis-attribution/s);
  });

  test('links: one per cited entry, PubMed first, labelled with the strength of evidence', () => {
    expect(catalogue.links(['gironi-2008', 'gironi-2008', 'kim-ldn-ms', 'naltrexone-label-contraindications'])).toEqual([
      { label: 'Gironi et al. 2008 (small pilot trial)', url: 'https://pubmed.ncbi.nlm.nih.gov/18728058/', type: 'absolute' },
      {
        label: 'Naltrexone tablets label, contraindications (product label)',
        url: 'https://dailymed.nlm.nih.gov/dailymed/drugInfo.cfm?setid=f3305f0b-fb9e-4009-b28f-47fe9b1b618b',
        type: 'absolute',
      },
    ]);
    expect(() => catalogue.links(['no-such-study'])).toThrow(/Unknown evidence id/);
  });
});

const SHARED = path.resolve(REPO_ROOT, '../shared');
const sharedAvailable = existsSync(path.join(SHARED, 'research/terminology.md')) && existsSync(path.join(SHARED, 'seeds'));

describe.skipIf(!sharedAvailable)(
  sharedAvailable ? 'evidence provenance (against ../shared research notes and seeds)' : 'evidence provenance: SKIPPED, ../shared/research and ../shared/seeds not found',
  () => {
    const terminology = sharedAvailable ? readFileSync(path.join(SHARED, 'research/terminology.md'), 'utf8') : '';
    const evidenceSection = terminology.slice(terminology.indexOf('## 6. Evidence'), terminology.indexOf('## 7.'));
    const seeds = sharedAvailable
      ? readdirSync(path.join(SHARED, 'seeds')).map((f) => readFileSync(path.join(SHARED, 'seeds', f), 'utf8')).join('\n')
      : '';
    const stated = `${evidenceSection}\n${seeds}`;

    test('terminology.md §6 was found', () => {
      expect(evidenceSection.length).toBeGreaterThan(1000);
    });

    test('every DOI is stated in terminology.md §6 or a seed', () => {
      const dois = entries.flatMap((e) => (e.doi ? [e.doi] : []));
      expect(dois.length).toBeGreaterThan(4);
      expect(dois.filter((doi) => !stated.includes(doi))).toEqual([]);
    });

    test('every PMID and PMCID is stated in terminology.md §6', () => {
      const ids = entries.flatMap((e) => [e.pmid, e.pmcid].filter((x): x is string => x !== undefined));
      expect(ids.length).toBeGreaterThan(4);
      expect(ids.filter((id) => !new RegExp(`\\b${id}\\b`).test(evidenceSection))).toEqual([]);
    });

    test('every other address is recorded in terminology.md or the lookups log (scheme aside), or its set id was verified with the search tool and the note says where', () => {
      const lookups = readFileSync(path.join(KNOWLEDGE_DIR, 'LOOKUPS.md'), 'utf8');
      const addresses = entries.flatMap((e) => e.urls.map((u) => ({ e, a: decodeURIComponent(u.url).replace(/^https:\/\//, '') })));
      expect(addresses.length).toBeGreaterThan(3);
      const searched = ({ e, a }: { e: EvidenceEntry; a: string }): boolean => {
        const setid = /[?&]setid=([0-9a-f-]{36})$/.exec(a)?.[1];
        const note = e.verification.note ?? '';
        return setid !== undefined && /search tool/.test(note) && new RegExp(`https://\\S+${setid}`).test(note);
      };
      expect(addresses.filter((x) => !terminology.includes(x.a) && !lookups.includes(x.a) && !searched(x)).map((x) => x.a)).toEqual([]);
    });
  },
);
