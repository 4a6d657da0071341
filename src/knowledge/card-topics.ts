/**
 * Card topics (cds-services/card-topics.yaml): a LOCAL code system naming what each card is about, one topic per
 * rule `concern`. Cards carry it as `source.topic` (CDS Hooks 2.0 Source: an optional Coding).
 */
import path from 'node:path';
import { z } from 'zod';
import type { Coding } from '../model/cards.js';
import { readKnowledgeFile } from './read-yaml.js';

const KebabCode = z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be kebab-case (a-z, 0-9, -)');

const CardTopicFileSchema = z
  .object({
    /** Canonical URL of the local code system. */
    system: z.string().url(),
    /** Must be true: these codes are defined here, not by any published terminology. */
    local: z.literal(true),
    description: z.string().min(1),
    topics: z.record(KebabCode, z.object({ display: z.string().trim().min(1).max(100) }).strict()).refine((t) => Object.keys(t).length > 0, 'at least one topic'),
  })
  .strict();

export interface CardTopicCatalogue {
  readonly system: string;
  /** The topic of a concern as a Coding (system, code, display), or undefined when the file has none for it. */
  get(concern: string): Coding | undefined;
}

/** Load and validate cds-services/card-topics.yaml. Throws a KnowledgeError listing every problem. */
export function loadCardTopics(file: string): CardTopicCatalogue {
  const parsed = readKnowledgeFile(file, path.basename(file), CardTopicFileSchema);
  const topics = new Map<string, Coding>(Object.entries(parsed.topics).map(([code, t]) => [code, { system: parsed.system, code, display: t.display }]));
  return { system: parsed.system, get: (concern) => topics.get(concern) };
}
