/**
 * Which app serves which HTTP path prefix, read from the source: each `@Controller('prefix')` under
 * libs/, the Nest module listing that controller, and the app compositions importing that module.
 * The Ingress, the local gateway and docs/deployment.md are checked against it, so a new
 * controller (or one moved to another module) cannot be left without a route.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { REPO } from './manifests';

/** The apps that run as servers (each has a composition); apps/cli is a client and deploys nowhere. */
export const SERVER_APPS = readdirSync(join(REPO, 'apps'))
  .filter((app) => existsSync(join(REPO, 'apps', app, 'src', `${app}.composition.ts`)))
  .sort();

export interface ServedPrefix {
  /** `/v1/keys`, as the Ingress writes it. */
  prefix: string;
  controller: string;
  /** The apps (apps/<name>, also the Kubernetes Service names) whose composition serves it. */
  apps: string[];
}

function sourceFiles(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix) && !e.name.includes('.spec.') && !e.name.includes('.int-spec.'))
    .map((e) => join(e.parentPath, e.name))
    .filter((path) => !relative(REPO, path).split('/').includes('testing'));
}

/** `decorator` followed (after other decorators) by `class Name`, for every occurrence. */
function decorated(source: string, decorator: RegExp): Array<{ match: RegExpExecArray; className: string }> {
  const found: Array<{ match: RegExpExecArray; className: string }> = [];
  for (const match of source.matchAll(new RegExp(decorator.source, 'g'))) {
    const after = /class\s+(\w+)/.exec(source.slice(match.index));
    if (after) found.push({ match: match as RegExpExecArray, className: after[1] });
  }
  return found;
}

/** Paths served outside Nest controllers, by the module that mounts them (its `mount` onto Fastify). */
export const MOUNTED_PREFIXES: ReadonlyArray<{ prefix: string; module: string }> = [
  { prefix: '/oidc', module: 'AccountsModule' },
  { prefix: '/sign-in', module: 'AccountsModule' },
  { prefix: '/dashboard', module: 'DashboardModule' },
];

export function servedPrefixes(): ServedPrefix[] {
  const libs = join(REPO, 'libs');
  const prefixes = new Map<string, string>();
  for (const file of sourceFiles(libs, '.controller.ts')) {
    for (const { match, className } of decorated(readFileSync(file, 'utf8'), /@Controller\('([^']+)'\)/)) prefixes.set(className, `/${match[1]}`);
  }
  const moduleOf = new Map<string, string>();
  for (const file of sourceFiles(libs, '.module.ts')) {
    for (const { match, className } of decorated(readFileSync(file, 'utf8'), /controllers:\s*\[([^\]]*)\]/)) {
      for (const controller of match[1].split(',').map((s) => s.trim()).filter(Boolean)) moduleOf.set(controller, className);
    }
  }
  const compositions = SERVER_APPS.map((app) => ({
      app,
      source: readFileSync(join(REPO, 'apps', app, 'src', `${app}.composition.ts`), 'utf8'),
    }));
  // Routes a module mounts on Fastify itself rather than through a controller (oidc-provider, the dashboard).
  for (const { prefix, module } of MOUNTED_PREFIXES) {
    const className = `${module}#${prefix}`;
    prefixes.set(className, prefix);
    moduleOf.set(className, module);
  }
  return [...prefixes].map(([controller, prefix]) => {
    const module = moduleOf.get(controller);
    const apps = module ? compositions.filter((c) => new RegExp(`\\b${module}\\b`).test(c.source)).map((c) => c.app) : [];
    return { prefix, controller, apps };
  });
}

/** Kubernetes `Prefix` matching: whole path elements, so `/v1/org` matches `/v1/org/settings`, not `/v1/orgs`. */
export function prefixMatches(rule: string, path: string): boolean {
  const r = rule.replace(/\/+$/, '');
  return path === r || path.startsWith(`${r}/`);
}

/** The longest rule matching `path`, as an Ingress controller picks it. */
export function routeFor<T extends { path: string }>(rules: T[], path: string): T | undefined {
  return rules.filter((r) => prefixMatches(r.path, path)).sort((a, b) => b.path.length - a.path.length)[0];
}
