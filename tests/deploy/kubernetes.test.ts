/**
 * deploy/kubernetes: every manifest validates offline against the Kubernetes OpenAPI schemas (kubernetes-models),
 * names only files, variables, routes and ports that exist, and its selectors, probes and security settings agree.
 */
import { describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { CONFIG_VARIABLES, PROJECT_ROOT, loadConfig } from '../../src/config/index.js';
import { loadTrustedClients } from '../../src/auth/trusted-clients.js';
import { testApp } from '../helpers/app.js';
import { gitIgnored } from '../helpers/git.js';

const DIR = path.join(PROJECT_ROOT, 'deploy', 'kubernetes');
const read = (rel: string) => readFileSync(path.join(DIR, rel), 'utf8');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = Record<string, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

const kustomization = parse(read('kustomization.yaml')) as {
  resources: string[];
  secretGenerator: Array<{ name: string; envs: string[] }>;
  configMapGenerator: Array<{ name: string; files: string[] }>;
  images: Array<{ name: string; newName: string; newTag: string }>;
};
const component = parse(read('components/servicemonitor/kustomization.yaml')) as { kind: string; resources: string[] };
const componentManifests: Manifest[] = component.resources.flatMap((f) => parseAllDocuments(read(path.join('components', 'servicemonitor', f))).map((d) => d.toJSON() as Manifest));
const manifests: Manifest[] = kustomization.resources.flatMap((f) => parseAllDocuments(read(f)).map((d) => d.toJSON() as Manifest));
const byKind = (kind: string) => manifests.find((m) => m.kind === kind)!;
const deployment = byKind('Deployment');
const pod = deployment.spec.template;
const container = pod.spec.containers[0];
const portNamed = (name: string) => container.ports.find((p: Manifest) => p.name === name);
const configMap = byKind('ConfigMap');
const envFile = (text: string) => Object.fromEntries([...text.matchAll(/^(\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
const secretExample = envFile(read('secrets.env.example'));


describe('deploy/kubernetes manifests', () => {
  test('each validates against the Kubernetes schema of its kind', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount'],
    );
    for (const m of manifests) {
      const Model = MODELS[`${m.apiVersion}/${m.kind}`];
      expect(Model, `${m.apiVersion} ${m.kind}`).toBeDefined();
      expect(() => new Model!(m).validate(), `${m.kind} ${m.metadata.name}`).not.toThrow();
    }
    for (const m of componentManifests.filter((c) => c.kind !== 'ServiceMonitor')) {
      expect(() => new MODELS[`${m.apiVersion}/${m.kind}`]!(m).validate(), `${m.kind} ${m.metadata.name}`).not.toThrow();
    }
  });

  test('the validator catches a broken manifest (so the check above can fail)', () => {
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'three thousand';
    expect(() => new Deployment(broken).validate()).toThrow(/containerPort must be integer/);
    const noSelector = structuredClone(deployment);
    delete noSelector.spec.selector;
    expect(() => new Deployment(noSelector).validate()).toThrow(/selector/);
  });

  test('every file the kustomization names exists, or is made by a documented command and git-ignored', () => {
    const docs = readFileSync(path.join(PROJECT_ROOT, 'docs', 'kubernetes.md'), 'utf8');
    const files = [
      ...kustomization.resources,
      ...kustomization.configMapGenerator.flatMap((g) => g.files),
      ...component.resources.map((f) => path.join('components', 'servicemonitor', f)),
    ];
    for (const f of files) expect(existsSync(path.join(DIR, f)), f).toBe(true);
    for (const f of kustomization.secretGenerator.flatMap((g) => g.envs)) {
      expect(gitIgnored(path.join(DIR, f)), `${f} must be git-ignored`).toBe(true);
      expect(existsSync(path.join(DIR, `${f}.example`)), `${f}.example`).toBe(true);
      expect(docs).toContain(`cp ${f}.example ${f}`);
    }
    expect(component.kind).toBe('Component');
  });

  test('configuration: only variables the service knows, secrets only in the Secret, valid as a production config', () => {
    for (const name of [...Object.keys(configMap.data), ...Object.keys(secretExample)]) expect(CONFIG_VARIABLES, name).toContain(name);
    for (const secret of ['DATABASE_URL', 'REDIS_URL', 'PATIENT_ID_HASH_KEY', 'ADMIN_TOKEN']) {
      expect(configMap.data[secret], secret).toBeUndefined();
      expect(secretExample, secret).toHaveProperty(secret);
    }
    expect(container.envFrom).toEqual([
      { configMapRef: { name: configMap.metadata.name } },
      { secretRef: { name: kustomization.secretGenerator[0]!.name } },
    ]);
    const config = loadConfig({ ...configMap.data, ...secretExample });
    expect(config).toMatchObject({ env: 'production', authMode: 'required', playground: false, port: portNamed('http').containerPort });
  });

  test('TRUSTED_CLIENTS points into the mounted trusted-clients ConfigMap, and that file is a valid production list', async () => {
    const file = configMap.data.TRUSTED_CLIENTS as string;
    const mount = container.volumeMounts.find((m: Manifest) => file.startsWith(`${m.mountPath}/`));
    const volume = pod.spec.volumes.find((v: Manifest) => v.name === mount.name);
    const generated = kustomization.configMapGenerator.find((g) => g.name === volume.configMap.name)!;
    expect(generated.files).toContain(path.basename(file));
    const clients = await loadTrustedClients({ file: path.join(DIR, path.basename(file)), allowSandboxIssuer: false, production: true });
    expect(clients.length).toBeGreaterThan(0);
  });

  test('probes: liveness /healthz and readiness /readyz on the named port, both answered by the service', async () => {
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    const handle = await testApp();
    try {
      expect((await request(handle.app).get('/healthz')).status).toBe(200);
      expect((await request(handle.app).get('/readyz')).status).toBe(200);
    } finally {
      await handle.close();
    }
  });

  test('runs as the image\'s non-root user, read-only, with no privileges, with resources set', () => {
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8')).toMatch(/^USER node$/m); // uid 1000 in node images
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits.memory).toBeDefined();
    expect(pod.spec.automountServiceAccountToken).toBe(false);
  });

  test('Service, PodDisruptionBudget, autoscaler, NetworkPolicy and ServiceMonitor all select these pods', () => {
    const labels = pod.metadata.labels;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
    expect(selects(byKind('Service').spec.selector)).toBe(true);
    expect(selects(byKind('PodDisruptionBudget').spec.selector.matchLabels)).toBe(true);
    expect(selects(byKind('NetworkPolicy').spec.podSelector.matchLabels)).toBe(true);
    expect(byKind('HorizontalPodAutoscaler').spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(byKind('HorizontalPodAutoscaler').spec.minReplicas).toBeGreaterThan(byKind('PodDisruptionBudget').spec.minAvailable);
    expect(byKind('Service').spec.ports.map((p: Manifest) => p.targetPort)).toEqual(['http']);
    expect(pod.spec.serviceAccountName).toBe(byKind('ServiceAccount').metadata.name);
  });

  test('/metrics: served on METRICS_PORT (the `metrics` container port), off on the public port', async () => {
    const config = loadConfig({ ...configMap.data, ...secretExample });
    expect(config.metrics).toMatchObject({ port: portNamed('metrics').containerPort, onPublicPort: false });
    expect(portNamed('http').containerPort).toBe(config.port);
    const handle = await testApp({ METRICS_PORT: configMap.data.METRICS_PORT });
    try {
      expect((await request(handle.app).get('/metrics')).status).toBe(404);
      const scraped = await request(handle.metricsApp!).get('/metrics');
      expect(scraped.status).toBe(200);
      expect(scraped.text).toContain('ldn_cds_http_requests_total');
      expect((await request(handle.metricsApp!).get('/readyz')).status).toBe(404);
    } finally {
      await handle.close();
    }
  });

  test('the ServiceMonitor scrapes the `metrics` port through a Service of its own, not the public one', () => {
    const monitor = componentManifests.find((m) => m.kind === 'ServiceMonitor')!;
    const metricsService = componentManifests.find((m) => m.kind === 'Service')!;
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    const selected = [...manifests, ...componentManifests].filter(
      (m) => m.kind === 'Service' && Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => m.metadata.labels[k] === v),
    );
    expect(selected.map((m) => m.metadata.name)).toEqual([metricsService.metadata.name]);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
    expect(metricsService.spec.ports).toEqual([expect.objectContaining({ name: 'metrics', targetPort: 'metrics' })]);
    const labels = pod.metadata.labels;
    expect(Object.entries(metricsService.spec.selector).every(([k, v]) => labels[k] === v)).toBe(true);
  });

  test('NetworkPolicy: the http port from anywhere, the metrics port only from the monitoring namespace', () => {
    const ingress = byKind('NetworkPolicy').spec.ingress as Manifest[];
    const rulesFor = (port: string) => ingress.filter((r) => r.ports.some((p: Manifest) => p.port === port));
    expect(rulesFor('http')).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
    expect(rulesFor('metrics')).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ port: 'metrics', protocol: 'TCP' }] },
    ]);
    for (const r of ingress) for (const p of r.ports) expect(container.ports.map((c: Manifest) => c.name), String(p.port)).toContain(p.port);
    expect(ingress).toHaveLength(2);
  });

  test('the image is the one the kustomization names, tagged with this version', () => {
    const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(kustomization.images).toEqual([expect.objectContaining({ name: container.image, newTag: pkg.version })]);
    expect(deployment.metadata.labels['app.kubernetes.io/version']).toBe(pkg.version);
  });
});
