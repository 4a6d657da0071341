/**
 * Load the whole knowledge pack under cds-services/ once, at start-up: services, rules (FHIRPath compiled),
 * value sets and lexicon, evidence and override reasons. Every problem in every file is collected and reported
 * together (file + field); a bad pack never starts.
 */
import path from 'node:path';
import { z } from 'zod';
import type { PatientFacts } from '../model/facts.js';
import type { Chart } from '../model/chart.js';
import type { Link } from '../model/cards.js';
import type { Rule } from '../rules/contract.js';
import { createFactExtractor, loadClinicalKnowledge } from '../clinical/extract.js';
import { loadRules } from '../rules/load.js';
import { loadEvidence, type EvidenceCatalogue } from '../knowledge/evidence.js';
import { loadOverrideReasons, type OverrideReasonCatalogue } from '../knowledge/override-reasons.js';
import { loadCardTopics, type CardTopicCatalogue } from '../knowledge/card-topics.js';
import { KnowledgeError, ProblemList } from '../model/problems.js';
import { readKnowledgeFile } from '../knowledge/read-yaml.js';
import { ServiceCatalog, loadServices, type ServiceDefinition } from '../knowledge/services.js';

export interface Knowledge {
  name: string;
  version: string;
  dir: string;
  services: ServiceCatalog;
  rules: ReadonlyMap<string, Rule>;
  rulesFor(service: ServiceDefinition): readonly Rule[];
  evidenceLinks(ids: readonly string[]): Link[];
  /** The whole evidence catalogue (evidence.yaml), for the evidence pages; absent in hand-built test packs. */
  evidence?: EvidenceCatalogue;
  /** True once the service publishes /evidence/{ruleId} pages (used as each card's source.url). */
  hasEvidencePages: boolean;
  extractFacts(chart: Chart, now: Date): PatientFacts;
  /** Prepare extractFacts for a chart in slices that yield to the event loop (src/clinical/extract.ts); optional. */
  warmFacts?(chart: Chart): Promise<void>;
  /** The local override-reason code system (which reasons acknowledge a card, and for how long). */
  overrideReasons: OverrideReasonCatalogue;
  /** The local card-topic code system (each card's source.topic, by its rule's concern); absent in hand-built test packs. */
  cardTopics?: CardTopicCatalogue;
}

const KnowledgeMeta = z.object({ name: z.string().min(1), version: z.string().regex(/^\d+\.\d+\.\d+/, 'must be a semantic version') }).passthrough();

/** The folder as the user named it: relative to the working directory when inside it, else absolute. */
function folderName(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
}

export function loadKnowledge(dir: string): Knowledge {
  const { items: problems, collect: attempt } = new ProblemList();

  const meta = attempt(() => readKnowledgeFile(path.join(dir, 'knowledge.yaml'), 'knowledge.yaml', KnowledgeMeta));
  const services = attempt(() => loadServices(dir));
  const clinical = attempt(() => loadClinicalKnowledge(dir));
  const evidence = attempt(() => loadEvidence(path.join(dir, 'evidence.yaml')));
  const overrideReasons = attempt(() => loadOverrideReasons(path.join(dir, 'override-reasons.yaml')));
  const cardTopics = attempt(() => loadCardTopics(path.join(dir, 'card-topics.yaml')));
  // Without the value sets (a broken value-set file), rules are still checked: memberOf() then names the missing sets.
  const rules = evidence && overrideReasons ? attempt(() => loadRules(dir, { evidence, overrideReasons, ...(clinical ? { valueSets: clinical.valueSets } : {}) })) : undefined;

  const ruleMap = new Map<string, Rule>((rules ?? []).map((r) => [r.id, r]));
  /** Rules by service file: the hooks of one file share its rule list. */
  const fileRules = new Map<string, Rule[]>();
  for (const s of services ?? []) {
    if (fileRules.has(s.file)) continue;
    const list: Rule[] = [];
    for (const [i, id] of s.ruleIds.entries()) {
      const rule = ruleMap.get(id);
      if (!rule) {
        if (rules) problems.push({ file: s.file, field: `rules[${i}]`, message: `no rule "${id}" in rules/` });
        continue;
      }
      if (!rule.hooks.some((h) => s.fileHooks.includes(h))) problems.push({ file: s.file, field: `rules[${i}]`, message: `rule "${id}" runs on none of this service's hooks` });
      list.push(rule);
    }
    fileRules.set(s.file, list);
  }
  /** Rules by service file and hook, computed once (the hook path only looks them up). */
  const serviceRules = new Map<string, Rule[]>();
  for (const s of services ?? []) serviceRules.set(`${s.file}|${s.hook}`, (fileRules.get(s.file) ?? []).filter((r) => r.hooks.includes(s.hook)));
  if (problems.length || !meta || !services || !clinical || !evidence || !rules || !overrideReasons || !cardTopics) throw new KnowledgeError(problems, folderName(dir));

  const extract = createFactExtractor(clinical);
  return {
    name: meta.name,
    version: meta.version,
    dir,
    services: new ServiceCatalog(services, { name: meta.name, version: meta.version }),
    rules: ruleMap,
    rulesFor: (service) => serviceRules.get(`${service.file}|${service.hook}`) ?? [],
    evidenceLinks: (ids) => evidence.links(ids),
    evidence,
    // GET /evidence/{ruleId} (src/http/evidence.ts) is served, so every card's source.url points at its rule's page.
    hasEvidencePages: true,
    extractFacts: extract,
    warmFacts: (chart) => extract.warm(chart),
    overrideReasons,
    cardTopics,
  };
}
