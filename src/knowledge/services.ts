/**
 * Declarative CDS services: one YAML file per service id under cds-services/services/.
 * A file names the id, the hook(s) it serves, discovery text, prefetch templates and the rules it runs.
 * Several hooks may share an id (spec §1: route on id + hook). Private fields never reach discovery.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { HookName } from '../clinical/facts.js';
import { SUPPORTED_HOOKS } from '../hooks/request.js';
import { KnowledgeError } from './errors.js';
import { readKnowledgeFile } from './read-yaml.js';
import { templateTokens } from '../data/templates.js';

/** Context fields that are prefetch tokens, per hook (hooks library: only root-level primitive fields). */
export const CONTEXT_TOKENS: Record<HookName, readonly string[]> = {
  'patient-view': ['userId', 'patientId', 'encounterId'],
  'order-select': ['userId', 'patientId', 'encounterId'],
  'order-sign': ['userId', 'patientId', 'encounterId'],
};
export const USER_TOKENS = ['userPractitionerId', 'userPractitionerRoleId', 'userPatientId', 'userRelatedPersonId'] as const;

const ServiceFile = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
    hooks: z.array(z.enum(SUPPORTED_HOOKS)).min(1, 'must name at least one hook'),
    title: z.string().min(1),
    description: z.string().min(1),
    usageRequirements: z.string().min(1).optional(),
    prefetch: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'prefetch keys are letters, digits, "_" or "-"'), z.string().min(1)).optional(),
    /** Prefetch keys the service can answer without; every other key is required (412 when it cannot be had). */
    optionalPrefetch: z.array(z.string()).default([]),
    rules: z.array(z.string().min(1)).min(1, 'must run at least one rule'),
  })
  .strict();

export interface ServiceDefinition {
  id: string;
  hooks: readonly HookName[];
  title: string;
  description: string;
  usageRequirements?: string;
  prefetch: Readonly<Record<string, string>>;
  optionalPrefetch: ReadonlySet<string>;
  ruleIds: readonly string[];
  file: string;
}

/** The discovery entry for one (id, hook) pair: exactly the spec's fields, no empty optionals. */
export interface DiscoveryEntry {
  hook: string;
  id: string;
  title: string;
  description: string;
  prefetch?: Record<string, string>;
  usageRequirements?: string;
}

export class ServiceCatalog {
  private readonly byId = new Map<string, ServiceDefinition>();

  constructor(services: ServiceDefinition[]) {
    for (const s of services) this.byId.set(s.id, s);
  }

  get(id: string): ServiceDefinition | undefined {
    return this.byId.get(id);
  }

  all(): ServiceDefinition[] {
    return [...this.byId.values()];
  }

  discovery(): DiscoveryEntry[] {
    return this.all().flatMap((s) =>
      s.hooks.map((hook) => ({
        hook,
        id: s.id,
        title: s.title,
        description: s.description,
        ...(Object.keys(s.prefetch).length ? { prefetch: { ...s.prefetch } } : {}),
        ...(s.usageRequirements ? { usageRequirements: s.usageRequirements } : {}),
      })),
    );
  }
}

/** Load and validate every services/*.yaml; all problems are collected and thrown together. */
export function loadServices(dir: string): ServiceDefinition[] {
  const folder = path.join(dir, 'services');
  const services: ServiceDefinition[] = [];
  let files: string[];
  try {
    files = readdirSync(folder).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    throw KnowledgeError.one('services/', '', 'folder is missing');
  }
  const seen = new Map<string, string>();
  const { problems, attempt } = KnowledgeError.collector();
  for (const name of files) {
    const file = `services/${name}`;
    const s = attempt(() => readKnowledgeFile(path.join(folder, name), file, ServiceFile));
    if (!s) continue;
    if (seen.has(s.id)) problems.push({ file, field: 'id', message: `"${s.id}" is already defined in ${seen.get(s.id)}` });
    seen.set(s.id, file);
    const prefetch = s.prefetch ?? {};
    for (const key of s.optionalPrefetch) {
      if (!(key in prefetch)) problems.push({ file, field: 'optionalPrefetch', message: `"${key}" is not a prefetch key` });
    }
    for (const [key, template] of Object.entries(prefetch)) {
      for (const token of templateTokens(template)) {
        const ok = (USER_TOKENS as readonly string[]).includes(token) ||
          (token.startsWith('context.') && s.hooks.every((h) => CONTEXT_TOKENS[h].includes(token.slice('context.'.length))));
        if (!ok) problems.push({ file, field: `prefetch.${key}`, message: `"{{${token}}}" is not a CDS Hooks 2.0 prefetch token for ${s.hooks.join(', ')}` });
      }
      if (/^https?:/i.test(template) || template.startsWith('/')) {
        problems.push({ file, field: `prefetch.${key}`, message: 'must be a relative FHIR query (e.g. "Patient/{{context.patientId}}")' });
      }
    }
    services.push({
      id: s.id,
      hooks: s.hooks,
      title: s.title,
      description: s.description.trim(),
      ...(s.usageRequirements ? { usageRequirements: s.usageRequirements.trim() } : {}),
      prefetch,
      optionalPrefetch: new Set(s.optionalPrefetch),
      ruleIds: s.rules,
      file,
    });
  }
  if (problems.length) throw new KnowledgeError(problems);
  return services;
}
