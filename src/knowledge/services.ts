/**
 * Declarative CDS services: one YAML file per service under cds-services/services/. A file names, for each hook
 * it serves, the service id that answers it (`hooks: {order-select: ldn-order-select, ...}`), the discovery text,
 * prefetch templates and the rules it runs. The rule list is written once per file and shared by its hooks.
 *
 * Every hook gets its own id: the spec (§1) allows one id for several hooks, but the CDS Hooks Sandbox and many
 * EHRs key services by discovery URL + id, so the second entry would replace the first and one hook would never
 * be called. An id that served several hooks before may be kept as a `formerIds` entry: POSTs to it are answered
 * by the file's service for the request's hook, and it is never listed in discovery.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CONTEXT_TOKENS, SUPPORTED_HOOKS, USER_TOKENS, type HookName } from '../model/hooks.js';
import { KnowledgeError, ProblemList } from '../model/problems.js';
import { readKnowledgeFile } from './read-yaml.js';
import { templateTokens } from '../model/prefetch-template.js';


/**
 * `hookVersion` of each hook as published in the CDS Hooks Library (HL7/cds-hooks-library@5d04c4d,
 * input/pagecontent/{patient-view,order-select,order-sign}.md, metadata table: hookVersion 1.0). Discovery
 * `hookVersion` is a CDS Hooks 3.0-ballot field that "SHALL match the hookVersion in the published hook definition".
 */
export const HOOK_VERSIONS: Record<HookName, string> = {
  'patient-view': '1.0',
  'order-select': '1.0',
  'order-sign': '1.0',
};

/**
 * Discovery `version` (CDS Hooks 3.0 ballot, HL7/cds-hooks@fb10ca7 index.md: "The semantic version of the CDS
 * Hooks specification implemented by this service"). This service implements CDS Hooks 2.0.1. The knowledge pack's
 * own version is published beside it, in the KNOWLEDGE_EXTENSION of every entry.
 */
export const CDS_HOOKS_VERSION = '2.0.1';
/** Discovery extension (spec §9: reverse-domain name) naming the knowledge pack and its semantic version. */
export const KNOWLEDGE_EXTENSION = 'org.example.ldn-cds.knowledge-pack';

const serviceId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"');

const ServiceFile = z
  .object({
    /** Which id answers which hook: one id per hook. */
    hooks: z
      .record(z.enum(SUPPORTED_HOOKS), serviceId)
      .refine((h) => Object.keys(h).length > 0, 'must name at least one hook'),
    /** Ids this file's services answered under before (several hooks under one id); POSTs are routed by hook. */
    formerIds: z.array(serviceId).default([]),
    title: z.string().min(1),
    description: z.string().min(1),
    usageRequirements: z.string().min(1).optional(),
    prefetch: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'prefetch keys are letters, digits, "_" or "-"'), z.string().min(1)).optional(),
    /** Prefetch keys the service can answer without; every other key is required (412 when it cannot be had). */
    optionalPrefetch: z.array(z.string()).default([]),
    rules: z.array(z.string().min(1)).min(1, 'must run at least one rule'),
  })
  .strict();

/** One service: one id answering one hook. */
export interface ServiceDefinition {
  /** The id it answers under (for a former id: that id, so audit and feedback join on the URL the client calls). */
  id: string;
  hook: HookName;
  /** [hook]: the hooks this service answers, as parseHookRequest takes them. */
  hooks: readonly HookName[];
  title: string;
  description: string;
  usageRequirements?: string;
  prefetch: Readonly<Record<string, string>>;
  optionalPrefetch: ReadonlySet<string>;
  ruleIds: readonly string[];
  /** The service file it comes from (services/….yaml): the hooks of one file share its rules. */
  file: string;
  /** Every hook the file serves (its rules must run on at least one of them). */
  fileHooks: readonly HookName[];
  formerIds: readonly string[];
}

/** What answers POST /cds-services/{id}: one service per hook; a former id answers several hooks. */
export interface ServiceEndpoint {
  id: string;
  hooks: readonly HookName[];
  /** False for a former id: answered, never listed in discovery. */
  listed: boolean;
  forHook(hook: string): ServiceDefinition | undefined;
}

/** The discovery entry for one service: exactly the spec's fields, no empty optionals. */
export interface DiscoveryEntry {
  hook: string;
  id: string;
  title: string;
  description: string;
  prefetch?: Record<string, string>;
  usageRequirements?: string;
  version: string;
  hookVersion: string;
  extension: Record<string, { name: string; version: string }>;
}

export interface KnowledgePackIdentity {
  name: string;
  version: string;
}

export class ServiceCatalog {
  private readonly listed: ServiceDefinition[];
  private readonly endpoints = new Map<string, ServiceEndpoint>();

  constructor(
    services: ServiceDefinition[],
    private readonly pack: KnowledgePackIdentity = { name: 'knowledge pack', version: '0.0.0' },
  ) {
    this.listed = services;
    for (const s of services) {
      if (this.endpoints.has(s.id)) throw new Error(`service id "${s.id}" is defined twice`);
      this.endpoints.set(s.id, { id: s.id, hooks: s.hooks, listed: true, forHook: (hook) => (hook === s.hook ? s : undefined) });
    }
    const former = new Map<string, Map<HookName, ServiceDefinition>>();
    for (const s of services) {
      for (const id of s.formerIds) {
        if (this.endpoints.has(id)) throw new Error(`former id "${id}" is also a current service id`);
        const byHook = former.get(id) ?? new Map<HookName, ServiceDefinition>();
        byHook.set(s.hook, { ...s, id });
        former.set(id, byHook);
      }
    }
    for (const [id, byHook] of former) {
      this.endpoints.set(id, { id, hooks: [...byHook.keys()], listed: false, forHook: (hook) => byHook.get(hook as HookName) });
    }
  }

  /** What answers this id, current or former. */
  endpoint(id: string): ServiceEndpoint | undefined {
    return this.endpoints.get(id);
  }

  /** The listed service with this id. */
  get(id: string): ServiceDefinition | undefined {
    const e = this.endpoints.get(id);
    return e?.listed ? e.forHook(e.hooks[0]!) : undefined;
  }

  /** The listed services (one per id), in discovery order. */
  all(): ServiceDefinition[] {
    return [...this.listed];
  }

  /** Every id that answers POSTs (listed and former), e.g. for JWT audiences. */
  ids(): string[] {
    return [...this.endpoints.keys()];
  }

  discovery(): DiscoveryEntry[] {
    return this.listed.map((s) => ({
      hook: s.hook,
      id: s.id,
      title: s.title,
      description: s.description,
      ...(Object.keys(s.prefetch).length ? { prefetch: { ...s.prefetch } } : {}),
      ...(s.usageRequirements ? { usageRequirements: s.usageRequirements } : {}),
      version: CDS_HOOKS_VERSION,
      hookVersion: HOOK_VERSIONS[s.hook],
      extension: { [KNOWLEDGE_EXTENSION]: { name: this.pack.name, version: this.pack.version } },
    }));
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
  /** Every id (current or former) → the file and field that claims it. */
  const seen = new Map<string, string>();
  const { items: problems, collect: attempt } = new ProblemList();
  const claim = (id: string, file: string, field: string) => {
    const other = seen.get(id);
    if (other) problems.push({ file, field, message: `"${id}" is already used by ${other}; each hook needs its own service id (the CDS Hooks Sandbox and many EHRs keep one service per id)` });
    else seen.set(id, `${file} (${field})`);
  };
  for (const name of files) {
    const file = `services/${name}`;
    const s = attempt(() => readKnowledgeFile(path.join(folder, name), file, ServiceFile));
    if (!s) continue;
    const hooks = Object.entries(s.hooks) as [HookName, string][];
    for (const [hook, id] of hooks) claim(id, file, `hooks.${hook}`);
    for (const [i, id] of s.formerIds.entries()) claim(id, file, `formerIds[${i}]`);
    const prefetch = s.prefetch ?? {};
    for (const key of s.optionalPrefetch) {
      if (!(key in prefetch)) problems.push({ file, field: 'optionalPrefetch', message: `"${key}" is not a prefetch key` });
    }
    const fileHooks = hooks.map(([hook]) => hook);
    for (const [key, template] of Object.entries(prefetch)) {
      for (const token of templateTokens(template)) {
        const ok = (USER_TOKENS as readonly string[]).includes(token) ||
          (token.startsWith('context.') && fileHooks.every((h) => CONTEXT_TOKENS[h].includes(token.slice('context.'.length))));
        if (!ok) problems.push({ file, field: `prefetch.${key}`, message: `"{{${token}}}" is not a CDS Hooks 2.0 prefetch token for ${fileHooks.join(', ')}` });
      }
      if (/^https?:/i.test(template) || template.startsWith('/')) {
        problems.push({ file, field: `prefetch.${key}`, message: 'must be a relative FHIR query (e.g. "Patient/{{context.patientId}}")' });
      }
    }
    for (const [hook, id] of hooks) {
      services.push({
        id,
        hook,
        hooks: [hook],
        title: hooks.length > 1 ? `${s.title} (${hook})` : s.title,
        description: s.description.trim(),
        ...(s.usageRequirements ? { usageRequirements: s.usageRequirements.trim() } : {}),
        prefetch,
        optionalPrefetch: new Set(s.optionalPrefetch),
        ruleIds: s.rules,
        file,
        fileHooks,
        formerIds: s.formerIds,
      });
    }
  }
  if (problems.length) throw new KnowledgeError(problems);
  return services;
}
