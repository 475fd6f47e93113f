/**
 * Every kustomize overlay under k8s/overlays renders with `kubectl kustomize`, every object it
 * produces validates against the Kubernetes OpenAPI schemas, and the result follows Signet's
 * deployment policy (tests/deploy/manifests.ts). The Ingress, the local gateway and
 * docs/deployment.md route each API path to the service that serves it (tests/deploy/routes.ts).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describeObject, isObject, K8sObject, loadSchemaValidator, OVERLAYS, parseManifests, policyViolations, renderOverlay, REPO } from './manifests';
import { routeFor, servedPrefixes, SERVER_APPS } from './routes';

/** The apps deployed to Kubernetes: every app but the all-in-one. */
const DEPLOYED = SERVER_APPS.filter((app) => app !== 'signet');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

const schemas = loadSchemaValidator();
const rendered = new Map<string, K8sObject[]>();
const objectsOf = (overlay: string): K8sObject[] => {
  const objects = rendered.get(overlay);
  if (!objects) throw new Error(`${overlay} did not render`);
  return objects;
};
const find = (objects: K8sObject[], kind: string, name: string): K8sObject | undefined => objects.find((o) => o.kind === kind && o.metadata.name === name);
const specOf = (o: K8sObject | undefined): Record<string, unknown> => (o && isObject(o['spec']) ? o['spec'] : {});
const clone = (objects: K8sObject[]): K8sObject[] => structuredClone(objects);

interface IngressRule {
  path: string;
  service: string;
}

function ingressRules(objects: K8sObject[]): IngressRule[] {
  const ingress = find(objects, 'Ingress', 'signet');
  const rules = specOf(ingress)['rules'] as Array<{ http: { paths: Array<{ path: string; backend: { service: { name: string } } }> } }>;
  return rules.flatMap((r) => r.http.paths.map((p) => ({ path: p.path, service: p.backend.service.name })));
}

function podSpec(o: K8sObject | undefined): { containers: Array<Record<string, unknown>> } {
  const template = specOf(o)['template'];
  return (isObject(template) ? template['spec'] : { containers: [] }) as { containers: Array<Record<string, unknown>> };
}

beforeAll(() => {
  for (const overlay of OVERLAYS) rendered.set(overlay, parseManifests(renderOverlay(overlay)));
});

describe.each(OVERLAYS)('k8s/overlays/%s', (overlay) => {
  (typeof schemas === 'string' ? it.skip : it)(
    `every object validates against the Kubernetes OpenAPI schemas${typeof schemas === 'string' ? ` (skipped: ${schemas})` : ''}`,
    () => {
      if (typeof schemas === 'string') return;
      expect(objectsOf(overlay).map(schemas).filter(Boolean)).toEqual([]);
    },
  );

  it("follows Signet's deployment policy (probes, requests and limits, hardened securityContext, PDBs, tags)", () => {
    expect(policyViolations(objectsOf(overlay))).toEqual([]);
  });

  it('deploys every app with a Deployment, Service, ServiceAccount and PodDisruptionBudget', () => {
    const objects = objectsOf(overlay);
    for (const app of DEPLOYED) {
      for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'PodDisruptionBudget']) expect([kind, app, !!find(objects, kind, app)]).toEqual([kind, app, true]);
    }
    expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort()).toEqual(DEPLOYED);
  });

  it('labels every pod part-of signet (docs/deployment.md finds the bootstrap key with it)', () => {
    const workloads = objectsOf(overlay).filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
    const unlabelled = workloads.filter((w) => (specOf(w)['template'] as { metadata: { labels: Record<string, string> } }).metadata.labels['app.kubernetes.io/part-of'] !== 'signet');
    expect(unlabelled.map(describeObject)).toEqual([]);
  });

  it('puts everything in the signet namespace, with PostgreSQL and Redis outside', () => {
    const objects = objectsOf(overlay);
    expect(objects.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== 'signet').map(describeObject)).toEqual([]);
    expect(objects.filter((o) => /postgres|redis/i.test(o.metadata.name) && o.kind !== 'Secret').map(describeObject)).toEqual([]);
  });

  it('gives each edge a stable id from its pod name, an autoscaler, and a load-balanced MQTT/WS Service', () => {
    const objects = objectsOf(overlay);
    const edge = find(objects, 'Deployment', 'mqtt-edge');
    const env = podSpec(edge).containers[0]['env'] as Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
    expect(env.find((e) => e.name === 'SIGNET_EDGE_ID')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    // The autoscaler owns the count; an applied replicas field would reset it on every apply.
    expect(specOf(edge)['replicas']).toBeUndefined();
    expect(specOf(find(objects, 'HorizontalPodAutoscaler', 'mqtt-edge'))['scaleTargetRef']).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'mqtt-edge' });
    const service = specOf(find(objects, 'Service', 'mqtt-edge'));
    expect(service['type']).toBe('LoadBalancer');
    expect(service['externalTrafficPolicy']).toBe('Local');
    expect((service['ports'] as Array<{ name: string }>).map((p) => p.name).sort()).toEqual(['mqtt', 'ws']);
  });

  it('runs the migrations in a Job with the migrate entry point, and the services do not migrate on start', () => {
    const objects = objectsOf(overlay);
    const script = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['migrate'];
    const entry = /node (\S+)/.exec(script)?.[1];
    expect(entry).toBeDefined();
    expect(podSpec(find(objects, 'Job', 'signet-migrate')).containers[0]['command']).toEqual(['node', entry, 'run']);
    const config = find(objects, 'ConfigMap', 'signet-config');
    expect(isObject(config?.['data']) && config['data']['SIGNET_MIGRATE_ON_START']).toBe('false');
  });

  it('provides the master key, database and Redis Secrets, each to the pods that use it', () => {
    const objects = objectsOf(overlay);
    const secretsOf = (kind: string, name: string): string[] =>
      ((podSpec(find(objects, kind, name)).containers[0]['env'] ?? []) as Array<{ valueFrom?: { secretKeyRef?: { key: string } } }>)
        .map((e) => e.valueFrom?.secretKeyRef?.key)
        .filter((k): k is string => k !== undefined)
        .sort();
    for (const app of DEPLOYED.filter((a) => a !== 'mqtt-edge')) expect(secretsOf('Deployment', app)).toEqual(['DATABASE_URL', 'REDIS_URL', 'SIGNET_MASTER_KEY']);
    expect(secretsOf('Deployment', 'mqtt-edge')).toEqual(['REDIS_URL']);
    expect(secretsOf('Job', 'signet-migrate')).toEqual(['DATABASE_URL']);
  });

  it('denies all inbound traffic and opens it per service', () => {
    const objects = objectsOf(overlay);
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    expect(specOf(policies.find((p) => p.metadata.name === 'default-deny'))).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    for (const w of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job')) {
      const labels = (specOf(w)['template'] as { metadata: { labels: Record<string, string> } }).metadata.labels;
      const own = policies.filter((p) => {
        const selector = specOf(p)['podSelector'] as { matchLabels?: Record<string, string> };
        return selector.matchLabels !== undefined && Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v);
      });
      expect([describeObject(w), own.length]).toEqual([describeObject(w), 1]);
    }
  });
});

describe('k8s overlays, specifically', () => {
  it('production runs the released images and scrapes every service', () => {
    const objects = objectsOf('production');
    for (const app of DEPLOYED) {
      expect(podSpec(find(objects, 'Deployment', app)).containers[0]['image']).toBe(`signet/${app}:${VERSION}`);
      expect(find(objects, 'ServiceMonitor', app)).toBeDefined();
    }
  });

  it("production's secrets come from files git never sees", () => {
    const dir = join(REPO, 'k8s', 'overlays', 'production', 'secrets');
    for (const example of readdirSync(dir).filter((f) => f.endsWith('.env.example'))) {
      const real = join(dir, example.slice(0, -'.example'.length));
      // `git check-ignore` exits 0 for an ignored path, 1 for one git would add.
      expect(() => execFileSync('git', ['check-ignore', '-q', real], { cwd: REPO })).not.toThrow();
    }
  });
});

describe('a broken manifest fails', () => {
  const edited = (edit: (objects: K8sObject[]) => void): string[] => {
    const objects = clone(objectsOf('local'));
    edit(objects);
    return policyViolations(objects);
  };
  const container = (objects: K8sObject[], name: string): Record<string, unknown> => podSpec(find(objects, 'Deployment', name)).containers[0];

  it.each<[string, (objects: K8sObject[]) => void, RegExp]>([
    ['a latest image', (o) => (container(o, 'token-service')['image'] = 'signet/token-service:latest'), /needs a tag other than latest/],
    ['no limits', (o) => delete (container(o, 'apikey-service')['resources'] as Record<string, unknown>)['limits'], /resources\.limits\.cpu missing/],
    ['no readiness probe', (o) => delete container(o, 'idp-federation')['readinessProbe'], /readinessProbe must GET \/readyz/],
    ['a writable root filesystem', (o) => ((container(o, 'mqtt-edge')['securityContext'] as Record<string, unknown>)['readOnlyRootFilesystem'] = false), /readOnlyRootFilesystem/],
    ['capabilities kept', (o) => ((container(o, 'mqtt-edge')['securityContext'] as Record<string, unknown>)['capabilities'] = {}), /drop ALL/],
    ['no PodDisruptionBudget', (o) => o.splice(o.findIndex((x) => x.kind === 'PodDisruptionBudget' && x.metadata.name === 'token-service'), 1), /token-service: no PodDisruptionBudget/],
    ['a mounted service account token', (o) => (podSpec(find(o, 'Deployment', 'mqtt-edge')) as Record<string, unknown>)['automountServiceAccountToken'] = true, /automountServiceAccountToken/],
    ['a missing Secret', (o) => o.splice(o.findIndex((x) => x.kind === 'Secret' && x.metadata.name.startsWith('signet-redis')), 1), /missing Secret key/],
  ])('policy: %s', (_, edit, message) => {
    expect(edited(edit).join('\n')).toMatch(message);
  });

  (typeof schemas === 'string' ? it.skip : it)('schema: a wrong type, a missing required field, an unknown kind', () => {
    if (typeof schemas === 'string') return;
    const objects = clone(objectsOf('local'));
    const deployment = find(objects, 'Deployment', 'token-service') as K8sObject;
    (deployment['spec'] as Record<string, unknown>)['replicas'] = 'two';
    expect(schemas(deployment)).toMatch(/replicas must be integer/);
    const service = find(objects, 'Service', 'token-service') as K8sObject;
    delete (service['spec'] as { ports: Array<Record<string, unknown>> }).ports[0]['port'];
    expect(schemas(service)).toMatch(/port/);
    expect(schemas({ ...deployment, kind: 'Deployemnt' })).toMatch(/no schema/);
  });

  it('kubectl kustomize refuses a kustomization naming a missing resource', () => {
    expect(() => execFileSync('kubectl', ['kustomize', join(REPO, 'tests', 'deploy', 'fixtures', 'broken-overlay')], { stdio: 'pipe' })).toThrow(/missing\.yaml/);
  });
});

describe('one address for the split services', () => {
  const served = servedPrefixes();

  it('finds the controllers of every feature', () => {
    expect(served.map((s) => s.prefix)).toEqual(expect.arrayContaining(['/v1/keys', '/v1/tokens', '/v1/federation', '/.well-known']));
    expect(served.filter((s) => s.apps.length === 0)).toEqual([]);
  });

  it('the Ingress routes every API path to a service that serves it, and nothing else', () => {
    const rules = ingressRules(objectsOf('production'));
    const services = new Set(objectsOf('production').filter((o) => o.kind === 'Service').map((o) => o.metadata.name));
    for (const { prefix, apps } of served) {
      const rule = routeFor(rules, prefix);
      expect([prefix, rule !== undefined && apps.includes(rule.service) && services.has(rule.service)]).toEqual([prefix, true]);
    }
    for (const rule of rules) expect([rule.path, served.some((s) => routeFor(rules, s.prefix) === rule)]).toEqual([rule.path, true]);
  });

  it('the local gateway (docker/gateway/nginx.conf) routes exactly like the Ingress', () => {
    const conf = readFileSync(join(REPO, 'docker', 'gateway', 'nginx.conf'), 'utf8');
    const locations = [...conf.matchAll(/location ~ \^(\S+)\(\/\|\$\) \{ proxy_pass http:\/\/([\w-]+); \}/g)].map((m) => ({ path: m[1].replace(/\\\./g, '.'), service: m[2] }));
    expect(locations).toEqual(ingressRules(objectsOf('production')));
  });

  it('docs/deployment.md lists which service serves which path, as the Ingress does', () => {
    const doc = readFileSync(join(REPO, 'docs', 'deployment.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `(\/[^`]+)` \| (\S+) \|/gm)].map((m) => ({ path: m[1], service: m[2] }));
    expect(rows).toEqual(ingressRules(objectsOf('production')));
  });
});
