/**
 * The evidence catalogue (cds-services/evidence.yaml): every citation once, with its design,
 * plain-words strength of evidence, identifiers and how far they were verified.
 * Rules cite entries by id; cards get one link per cited entry.
 */
import path from 'node:path';
import { z } from 'zod';
import type { Link } from '../model/cards.js';
import { ProblemList } from '../model/problems.js';
import { readKnowledgeFile } from './read-yaml.js';

/** Strength of evidence, in words a prescriber reads at a glance. */
export const EVIDENCE_STRENGTHS = [
  'product label',
  'small randomised controlled trial',
  'small pilot trial',
  'retrospective cohort',
  'registry study',
  'narrative review',
  'expert opinion',
  'consumer health article',
  'theoretical / expert opinion',
] as const;

const Id = z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be kebab-case (a-z, 0-9, -)');
const HttpsUrl = z
  .string()
  .url()
  .refine((u) => u.startsWith('https://'), 'must be an https:// URL');

const EvidenceEntrySchema = z
  .object({
    id: Id,
    /** Short label shown on cards and links, e.g. "Gironi et al. 2008". */
    label: z.string().min(1).max(60),
    citation: z.string().min(1),
    design: z.string().min(1),
    size: z.string().min(1).optional(),
    /** What the source found or states, in one or two sentences. */
    finding: z.string().min(1),
    strengthOfEvidence: z.enum(EVIDENCE_STRENGTHS),
    doi: z.string().regex(/^10\.\d{4,9}\/\S+$/, 'must be a bare DOI such as 10.1002/ana.22006').optional(),
    pmid: z.string().regex(/^\d{1,9}$/, 'must be digits only').optional(),
    pmcid: z.string().regex(/^PMC\d+$/, 'must look like PMC1234567').optional(),
    /** Other pages (labels, organisation pages), https only. */
    urls: z.array(z.object({ label: z.string().min(1), url: HttpsUrl }).strict()).default([]),
    verification: z
      .object({
        /** verified: identifiers confirmed in research/terminology.md; as-cited-in-seed: only as a seed article states it. */
        status: z.enum(['verified', 'as-cited-in-seed', 'unverified']),
        note: z.string().min(1).optional(),
      })
      .strict(),
    /** Where this entry was taken from: a section of research/terminology.md or a seed file. */
    source: z.string().min(1),
  })
  .strict();

const EvidenceFileSchema = z.object({ evidence: z.array(EvidenceEntrySchema).min(1) }).strict();

export type EvidenceEntry = z.infer<typeof EvidenceEntrySchema>;

export interface EvidenceCatalogue {
  get(id: string): EvidenceEntry | undefined;
  all(): readonly EvidenceEntry[];
  /**
   * One card link per cited entry (PubMed, else DOI, else PMC, else its first page), labelled with
   * the entry and its strength of evidence. Entries without any address give no link. Throws on an unknown id.
   */
  links(ids: readonly string[]): Link[];
}

/** Every address an entry has, most useful first. */
export function evidenceUrls(entry: EvidenceEntry): { label: string; url: string }[] {
  return [
    ...(entry.pmid ? [{ label: 'PubMed', url: `https://pubmed.ncbi.nlm.nih.gov/${entry.pmid}/` }] : []),
    ...(entry.doi ? [{ label: 'DOI', url: `https://doi.org/${entry.doi}` }] : []),
    ...(entry.pmcid ? [{ label: 'PubMed Central', url: `https://pmc.ncbi.nlm.nih.gov/articles/${entry.pmcid}/` }] : []),
    ...entry.urls,
  ];
}

/** Load and validate cds-services/evidence.yaml. Throws a KnowledgeError listing every problem. */
export function loadEvidence(file: string): EvidenceCatalogue {
  const label = path.basename(file);
  const { evidence } = readKnowledgeFile(file, label, EvidenceFileSchema);
  const problems = new ProblemList();
  const byId = new Map<string, EvidenceEntry>();
  evidence.forEach((entry, i) => {
    if (byId.has(entry.id)) problems.add(label, `evidence[${i}].id`, `duplicate id "${entry.id}": cite each source once`);
    byId.set(entry.id, entry);
  });
  problems.throwIfAny();
  // Each entry's card link, made once (cards are rendered on every hook call); frozen, since cards share them.
  const linkOf = new Map<string, readonly Link[]>(
    evidence.map((entry) => {
      const first = evidenceUrls(entry)[0];
      return [entry.id, Object.freeze(first ? [Object.freeze({ label: `${entry.label} (${entry.strengthOfEvidence})`, url: first.url, type: 'absolute' as const })] : [])];
    }),
  );

  return {
    get: (id) => byId.get(id),
    all: () => evidence,
    links(ids) {
      return [...new Set(ids)].flatMap((id) => {
        const links = linkOf.get(id);
        if (!links) throw new Error(`Unknown evidence id "${id}"`);
        return links;
      });
    },
  };
}
