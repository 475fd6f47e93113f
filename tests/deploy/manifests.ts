/**
 * Renders the kustomize overlays under k8s/ and checks what they produce: against the Kubernetes
 * OpenAPI schemas (when the validator package is installed) and against Signet's own deployment
 * policy. Used by tests/deploy/k8s.int-spec.ts.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseAllDocuments } from 'yaml';

export const REPO = join(__dirname, '..', '..');
export const OVERLAYS = readdirSync(join(REPO, 'k8s', 'overlays')).sort();

/** A rendered object, loosely typed: the checks below read what they need and validate the rest. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/**
 * `kubectl kustomize` of one overlay, from a copy of k8s/ in which every `*.env.example` of the
 * overlay has been copied to its `*.env` (production's Secrets come from files kept out of git).
 */
export function renderOverlay(overlay: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'signet-k8s-'));
  try {
    cpSync(join(REPO, 'k8s'), dir, { recursive: true });
    fillExampleSecrets(join(dir, 'overlays', overlay));
    return execFileSync('kubectl', ['kustomize', join(dir, 'overlays', overlay)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fillExampleSecrets(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) fillExampleSecrets(path);
    else if (entry.name.endsWith('.env.example')) cpSync(path, path.slice(0, -'.example'.length));
  }
}

export function parseManifests(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`document ${i}: ${doc.errors.map(String).join('; ')}`);
    const value: unknown = doc.toJSON();
    if (!isObject(value) || typeof value['apiVersion'] !== 'string' || typeof value['kind'] !== 'string' || !isObject(value['metadata'])) {
      throw new Error(`document ${i} is not a Kubernetes object`);
    }
    return value as K8sObject;
  });
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const describeObject = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;

// ---------------------------------------------------------------------------------------------
// Schema validation: kubernetes-models (the Kubernetes OpenAPI definitions compiled to JSON-schema
// validators) and, for the ServiceMonitor CRD, @kubernetes-models/prometheus-operator.

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Where the model classes of each apiVersion live; a kind not found there is an error. */
const MODEL_MODULES: Record<string, string> = {
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};
const modelModule = (apiVersion: string): string => MODEL_MODULES[apiVersion] ?? `kubernetes-models/${apiVersion}`;

export type SchemaValidator = (o: K8sObject) => string | undefined;

/** The validator, or why it is not available (the packages are not installed). */
export function loadSchemaValidator(): SchemaValidator | string {
  for (const name of ['kubernetes-models/package.json', '@kubernetes-models/prometheus-operator/package.json']) {
    try {
      require.resolve(name);
    } catch {
      return `${name.replace('/package.json', '')} is not installed`;
    }
  }
  return (o) => {
    let exports: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      exports = require(modelModule(o.apiVersion));
    } catch {
      return `${describeObject(o)}: no schema for apiVersion ${o.apiVersion}`;
    }
    const model = isObject(exports) ? exports[o.kind] : undefined;
    if (typeof model !== 'function') return `${describeObject(o)}: no schema for ${o.apiVersion} ${o.kind}`;
    try {
      new (model as ModelClass)(withUnwrappedSecretData(o)).validate();
      return undefined;
    } catch (err) {
      return `${describeObject(o)}: ${(err as Error).message}`;
    }
  };
}

/**
 * kustomize wraps long base64 Secret values over several lines. The API server decodes `data`
 * with Go's base64 decoder, which skips line breaks; the schema's `byte` format does not.
 */
function withUnwrappedSecretData(o: K8sObject): K8sObject {
  if (o.kind !== 'Secret' || !isObject(o['data'])) return o;
  const data = Object.fromEntries(Object.entries(o['data']).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v]));
  return { ...o, data };
}

// ---------------------------------------------------------------------------------------------
// Signet's deployment policy: what the schemas allow but a Signet deployment must not do.

interface Container {
  name: string;
  image?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: Record<string, unknown>;
  readinessProbe?: { httpGet?: { path?: string } };
  livenessProbe?: { httpGet?: { path?: string } };
  startupProbe?: { httpGet?: { path?: string } };
  env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }>;
}

interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
}

interface Workload extends K8sObject {
  spec: { selector?: { matchLabels?: Record<string, string> }; template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } };
}

const WORKLOAD_KINDS = ['Deployment', 'Job', 'StatefulSet', 'DaemonSet'];
const isWorkload = (o: K8sObject): o is Workload => WORKLOAD_KINDS.includes(o.kind);

/** Every violation of the policy in one rendered overlay; empty when it complies. */
export function policyViolations(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const named = (kind: string, name: string) => objects.some((o) => o.kind === kind && o.metadata.name === name);
  for (const o of objects) {
    if (o.kind === 'Secret' && o.metadata.namespace !== 'signet') problems.push(`${describeObject(o)}: not in namespace signet`);
    if (o.kind === 'ServiceAccount' && o['automountServiceAccountToken'] !== false) {
      problems.push(`${describeObject(o)}: automountServiceAccountToken must be false`);
    }
    if (!isWorkload(o)) continue;
    const where = describeObject(o);
    const pod = o.spec.template.spec;
    if (pod.automountServiceAccountToken !== false) problems.push(`${where}: automountServiceAccountToken must be false`);
    if (!pod.serviceAccountName || !named('ServiceAccount', pod.serviceAccountName)) problems.push(`${where}: needs its own ServiceAccount`);
    const podSecurity = pod.securityContext ?? {};
    if (podSecurity['runAsNonRoot'] !== true) problems.push(`${where}: pod securityContext.runAsNonRoot must be true`);
    if (!isObject(podSecurity['seccompProfile']) || podSecurity['seccompProfile']['type'] !== 'RuntimeDefault') {
      problems.push(`${where}: pod seccompProfile must be RuntimeDefault`);
    }
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) problems.push(...containerViolations(`${where} container ${c.name}`, c, o.kind, objects));
    if (o.kind === 'Deployment') problems.push(...deploymentViolations(o, objects));
  }
  return problems;
}

function containerViolations(where: string, c: Container, kind: string, objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const image = c.image ?? '';
  const tag = /:([^/:@]+)$/.exec(image)?.[1];
  if (!tag || tag === 'latest') problems.push(`${where}: image '${image}' needs a tag other than latest`);
  for (const side of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory']) {
      if (c.resources?.[side]?.[resource] === undefined) problems.push(`${where}: resources.${side}.${resource} missing`);
    }
  }
  const s = c.securityContext ?? {};
  if (s['allowPrivilegeEscalation'] !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
  if (s['readOnlyRootFilesystem'] !== true) problems.push(`${where}: readOnlyRootFilesystem must be true`);
  if (s['runAsNonRoot'] !== true) problems.push(`${where}: runAsNonRoot must be true`);
  if (s['privileged'] === true) problems.push(`${where}: must not be privileged`);
  const drop = isObject(s['capabilities']) ? s['capabilities']['drop'] : undefined;
  if (!Array.isArray(drop) || !drop.includes('ALL')) problems.push(`${where}: capabilities must drop ALL`);
  if (isObject(s['capabilities']) && s['capabilities']['add'] !== undefined) problems.push(`${where}: adds capabilities`);
  // Long-running processes are probed; a Job's container runs to completion and is not.
  if (kind !== 'Job') {
    const probes: Array<[keyof Container, string]> = [
      ['startupProbe', '/healthz'],
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz'],
    ];
    for (const [probe, path] of probes) {
      const actual = (c[probe] as Container['readinessProbe'])?.httpGet?.path;
      if (actual !== path) problems.push(`${where}: ${probe} must GET ${path} (has ${actual ?? 'none'})`);
    }
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (!ref) continue;
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
    const data = secret && isObject(secret['data']) ? secret['data'] : undefined;
    if (!data || !(ref.key in data)) problems.push(`${where}: ${e.name} refers to missing Secret key ${ref.name}/${ref.key}`);
  }
  return problems;
}

function deploymentViolations(d: Workload, objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const where = describeObject(d);
  const labels = d.spec.template.metadata?.labels ?? {};
  const selects = (selector: unknown): boolean =>
    isObject(selector) && isObject(selector['matchLabels']) && Object.entries(selector['matchLabels']).every(([k, v]) => labels[k] === v);
  const spec = (o: K8sObject): Record<string, unknown> => (isObject(o['spec']) ? o['spec'] : {});
  if (!objects.some((o) => o.kind === 'PodDisruptionBudget' && selects(spec(o)['selector']))) problems.push(`${where}: no PodDisruptionBudget selects its pods`);
  if (!objects.some((o) => o.kind === 'Service' && isObject(spec(o)['selector']) && selects({ matchLabels: spec(o)['selector'] }))) {
    problems.push(`${where}: no Service selects its pods`);
  }
  return problems;
}
