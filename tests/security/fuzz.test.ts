/**
 * Bounded, seeded fuzzing of hook request bodies (issue 12 item 9): start from the real CDS Hooks Sandbox captures
 * (../shared/sandbox-captures) and the project's fixtures, mutate the bodies (types swapped, nulls, huge and deep
 * values, arrays ↔ objects, lone surrogates, contained/entry/reference garbage, wrong resourceTypes, other
 * patients), POST them to the in-process app with the real knowledge pack, and require: no 5xx, every non-200
 * an OperationOutcome, every 200 a cards array. The FHIR server (for calls that must fetch) is a stub answering
 * from the sandbox's fixture, mutated the same way, or failing. Deterministic: same seed, same calls.
 * URL paths are not fuzzed here (src/http path handling has its own tests).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, type AppHandle } from '../../src/app.js';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { CAPTURES_DIR, hasShared, loadCaptures } from '../helpers/shared.js';
import { orderSelect, patientView, withFhir } from '../helpers/app.js';
import { prng } from '../helpers/prng.js';

/** FUZZ_SEED / FUZZ_CALLS run a longer or different campaign locally; the suite runs the fixed default. */
const SEED = Number(process.env.FUZZ_SEED ?? 0x1dc0ffee);
const CALLS = Number(process.env.FUZZ_CALLS ?? 700);


type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function deep(depth: number): Json {
  let v: Json = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { x: v };
  return v;
}

class Mutator {
  constructor(readonly random: () => number) {}
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** A replacement value: garbage of every JSON type, and FHIR-shaped garbage. */
  garbage(current: Json): Json {
    const options: (() => Json)[] = [
      () => null,
      () => 1,
      () => -0.5,
      () => 1e308,
      () => true,
      () => '',
      () => 'x',
      () => '\uD800',
      () => 'p\uDFFF1',
      () => 'x'.repeat(50_000),
      () => [],
      () => [null],
      () => [1, 'a', null],
      () => ({}),
      () => deep(20 + this.int(60)),
      () => (Array.isArray(current) ? { ...current } : current && typeof current === 'object' ? Object.values(current) : [current]),
      () => ({ resourceType: this.pick(['Bundle', 'OperationOutcome', 'MedicationOrder', 'MedicationRequest', 'MedicationStatement', 'Medication', 'Observation', 'Patient', '', 'x'.repeat(300)]) }),
      () => ({ reference: this.pick(['Patient/other', '#nope', 'Medication/..%2fadmin', 'urn:uuid:1', 'https://evil.example.com/fhir/Medication/1', '', 'Medication/' + 'a'.repeat(200)]) }),
      () => ({ resourceType: 'Bundle', entry: this.pick([1, 'x', [null], [{}], [{ resource: 1 }], [{ resource: { resourceType: 'Observation' } }]] as Json[]) }),
      () => ({ resourceType: 'Bundle', entry: [], link: [{ relation: 'next', url: this.pick(['https://fhir.example.org/r4/..%2fadmin', 'http://127.0.0.1:8090/fhir/x%5c', 1, null, '']) }] } as Json),
      () => ({ resourceType: 'OperationOutcome', issue: this.pick([[], null, [{ severity: 'error' }], 'x'] as Json[]) }),
    ];
    return this.pick(options)();
  }

  /** Every path to a value in the document (capped), with a bias to nothing: all are equally likely. */
  paths(doc: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
    if (out.length > 2000) return out;
    out.push(prefix);
    if (Array.isArray(doc)) doc.forEach((v, i) => this.paths(v, [...prefix, i], out));
    else if (doc && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) this.paths(v, [...prefix, k], out);
    return out;
  }

  /** 1–4 mutations at random paths: replace, delete, or add a FHIR member with garbage. */
  mutate(doc: Json): Json {
    const copy = JSON.parse(JSON.stringify(doc)) as Json;
    const n = 1 + this.int(4);
    let root = copy;
    for (let i = 0; i < n; i++) {
      const all = this.paths(root).slice(1);
      if (all.length === 0) return this.garbage(root);
      const at = this.pick(all);
      const parent = at.slice(0, -1).reduce<Json>((node, k) => (node as Record<string, Json>)[k as string]!, root) as Record<string, Json> | Json[];
      const key = at[at.length - 1]!;
      const roll = this.random();
      if (roll < 0.15 && !Array.isArray(parent)) delete (parent as Record<string, Json>)[key as string];
      else if (roll < 0.3 && !Array.isArray(parent)) {
        (parent as Record<string, Json>)[this.pick(['contained', 'subject', 'patient', 'medicationReference', 'dosageInstruction', 'dosage', 'entry', 'link', 'resourceType', 'status', 'selections'])] = this.garbage(null);
      } else (parent as Record<string, Json>)[key as string] = this.garbage((parent as Record<string, Json>)[key as string]!);
      if (this.random() < 0.02) root = this.garbage(root);
    }
    return root;
  }
}

function fixtureSeeds(): { hook: string; body: Json }[] {
  const file = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'fixtures', 'requests', 'order-select-ldn-oxycodone.json'), 'utf8')) as Json;
  return [
    { hook: 'order-select', body: orderSelect() as Json },
    { hook: 'patient-view', body: patientView() as Json },
    { hook: 'order-select', body: withFhir(orderSelect()) as Json },
    { hook: 'order-select', body: file },
  ];
}

const serviceFor = (hook: string) => (hook === 'patient-view' ? 'ldn-patient-view' : 'ldn-order-check');

describe.skipIf(!hasShared)(`fuzzed hook bodies (seed ${SEED.toString(16)}, ${CALLS} calls, captures from ${CAPTURES_DIR})`, () => {
  let h: AppHandle;
  let server: Server;
  let base: string;
  const m = new Mutator(prng(SEED));
  const fixture = hasShared ? (JSON.parse(readFileSync(path.join(CAPTURES_DIR, 'fhir-fixture-ldn-demo-1.json'), 'utf8')) as { entry?: { resource: Json }[] }) : {};
  const fhirResources = (fixture.entry ?? []).map((e) => e.resource);

  /** The FHIR server stub: a searchset of the fixture's resources (sometimes mutated), or a failure. */
  const fhirStub = async (): Promise<Response> => {
    const r = m.int(10);
    if (r === 0) return new Response('not json', { status: 200 });
    if (r === 1) return new Response(null, { status: 404 });
    if (r === 2) return new Response('{}', { status: 500 });
    const bundle: Json = { resourceType: 'Bundle', type: 'searchset', entry: fhirResources.map((resource) => ({ resource })) };
    return new Response(JSON.stringify(r < 6 ? m.mutate(bundle) : bundle), { status: 200, headers: { 'content-type': 'application/fhir+json' } });
  };

  beforeAll(async () => {
    h = await createApp(testConfig({ FHIR_SERVER_ALLOWLIST: 'http://127.0.0.1:8090/fhir,https://fhir.example.org/r4', FHIR_UNAUTHENTICATED_FETCH: 'true', SUPPRESSION: 'off' }), {
      fetch: fhirStub as typeof fetch,
    });
    server = h.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  test('no 5xx; every non-200 is an OperationOutcome; every 200 has cards', async () => {
    const seeds = [
      ...loadCaptures()
        .filter((c) => c.method === 'POST' && c.body && typeof c.body.hook === 'string' && !c.path.endsWith('/feedback'))
        .map((c) => ({ hook: c.body!.hook as string, body: c.body as Json })),
      ...fixtureSeeds(),
    ];
    expect(seeds.length).toBeGreaterThan(8);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < CALLS && failures.length < 5; i++) {
      const seed = seeds[i % seeds.length]!;
      const body = i < seeds.length ? seed.body : m.mutate(seed.body);
      const res = await fetch(`${base}/cds-services/${serviceFor(seed.hook)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      let json: { resourceType?: unknown; cards?: unknown } | undefined;
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        json = undefined;
      }
      const ok = res.status < 500 && (res.status === 200 ? Array.isArray(json?.cards) : json?.resourceType === 'OperationOutcome');
      if (!ok) failures.push(`call ${i} (${seed.hook}): HTTP ${res.status} ${text.slice(0, 300)}\nbody: ${JSON.stringify(body).slice(0, 600)}`);
    }
    expect(failures, `statuses: ${JSON.stringify(Object.fromEntries(statuses))}`).toEqual([]);
    // The fuzzing reached the pipeline, not only validation.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(20);
  }, Math.max(30_000, CALLS * 40));
});
