/**
 * A bounded, seeded fuzz over the OpenAPI document of the all-in-one (issue 18, finding 4): for every
 * operation, bodies, path and query parameters built from its schemas and then broken — null for each
 * field, the wrong type, a 10,000-character string, a required field left out, an unknown field, a
 * nested array where an object belongs — sent with the bootstrap key. No answer may be a 5xx, and
 * every 4xx is problem+json with a `code`.
 */
import type { SignetProcess } from '@signet/runtime';

import { Backend, realBackend, startSignet } from '../support/signet';

jest.setTimeout(180_000);

/** Cases per operation: enough to cover each field's mutations, bounded so the run takes seconds. */
const CASES_PER_OPERATION = 64;

interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  format?: string;
  minimum?: number;
  maximum?: number;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

/** mulberry32: the same cases every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD_STRINGS = ['', ' ', 'a'.repeat(10_000), '\u0000', '$', '../../etc/passwd', '%', '\ud800', '{"a":1}', '🙂'.repeat(50), '-1', 'null'];
/** Strings for paths and queries: what encodeURIComponent can carry (no lone surrogate). */
const URL_STRINGS = WEIRD_STRINGS.filter((x) => x !== '\ud800');
const WRONG_VALUES: unknown[] = [null, 0, -1, 1e308, true, 'x', [], [[[]]], {}, { a: { b: { c: {} } } }];

function resolver(doc: Document): (s: Schema | undefined) => Schema {
  const resolve = (s: Schema | undefined): Schema => {
    if (s === undefined) return {};
    if (s.$ref !== undefined) return resolve(doc.components?.schemas?.[s.$ref.split('/').pop()!]);
    const one = s.allOf?.[0] ?? s.oneOf?.[0] ?? s.anyOf?.[0];
    return one !== undefined && s.type === undefined && s.properties === undefined ? resolve(one) : s;
  };
  return resolve;
}

/** A value the schema accepts, roughly (the fuzz is about what comes after). */
function sample(schema: Schema, resolve: (s: Schema | undefined) => Schema, rnd: () => number, depth = 0): unknown {
  const s = resolve(schema);
  if (s.enum !== undefined && s.enum.length > 0) return s.enum[Math.floor(rnd() * s.enum.length)];
  switch (s.type) {
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return rnd() < 0.5;
    case 'array':
      return depth > 3 ? [] : [sample(s.items ?? {}, resolve, rnd, depth + 1)];
    case 'object': {
      const out: Record<string, unknown> = {};
      if (depth > 3) return out;
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = sample(v, resolve, rnd, depth + 1);
      return out;
    }
    case 'string':
      return s.format === 'date-time' ? new Date().toISOString() : `fuzz${Math.floor(rnd() * 1e6)}`;
    default:
      return s.properties !== undefined ? sample({ ...s, type: 'object' }, resolve, rnd, depth) : 'fuzz';
  }
}

/** The body's fields as paths, e.g. ['permissions', 'publish']. */
function fieldPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return prefix.length > 0 ? [prefix] : [];
  const entries = Object.entries(value as Record<string, unknown>);
  return [...(prefix.length > 0 ? [prefix] : []), ...entries.flatMap(([k, v]) => fieldPaths(v, [...prefix, k]))];
}

function setAt(root: unknown, path: string[], value: unknown, remove = false): unknown {
  const copy = structuredClone(root) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  if (remove) delete node[path[path.length - 1]];
  else node[path[path.length - 1]] = value;
  return copy;
}

function mutate(body: unknown, rnd: () => number): unknown {
  const paths = fieldPaths(body);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const roll = rnd();
  if (paths.length === 0 || roll < 0.1) return pick([null, [], 'text', 42, [body], { unknown_field: 1 }]);
  const path = pick(paths);
  if (roll < 0.25) return setAt(body, path, undefined, true);
  if (roll < 0.35) return { ...(body as object), [`unknown_${Math.floor(rnd() * 100)}`]: pick(WRONG_VALUES) };
  if (roll < 0.6) return setAt(body, path, pick(WEIRD_STRINGS));
  return setAt(body, path, pick(WRONG_VALUES));
}

describe('a schema-driven fuzz over the OpenAPI document', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let base: string;
  let doc: Document;
  let key: string;

  beforeAll(async () => {
    backend = await realBackend('openapi_fuzz');
    // Generous public limits: the fuzz calls the unauthenticated routes hundreds of times from one address.
    signet = await startSignet(backend, { SIGNET_PUBLIC_RATE_PER_IP: '0' });
    base = `http://127.0.0.1:${signet.ports.http}`;
    doc = (await (await fetch(`${base}/docs/openapi.json`)).json()) as Document;
    key = signet.service!.bootstrap!.apiKey;
  });
  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
  });

  it('answers every broken request with a 4xx problem (or a success), never a 5xx', async () => {
    const resolve = resolver(doc);
    // SIGNET_FUZZ_SEED tries other cases locally; CI runs the same ones every time.
    const rnd = prng(Number(process.env['SIGNET_FUZZ_SEED'] ?? 0x5167));
    const failures: string[] = [];
    let calls = 0;
    for (const [template, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const params = operation.parameters ?? [];
        const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
        const valid = bodySchema === undefined ? undefined : sample(bodySchema, resolve, rnd);
        for (let i = 0; i < CASES_PER_OPERATION; i++) {
          let path = template;
          for (const p of params.filter((p) => p.in === 'path')) {
            path = path.replace(`{${p.name}}`, encodeURIComponent(i % 2 === 0 ? String(sample(p.schema ?? {}, resolve, rnd)) : URL_STRINGS[i % URL_STRINGS.length]));
          }
          const query = params
            .filter((p) => p.in === 'query')
            .map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(String(rnd() < 0.5 ? sample(p.schema ?? {}, resolve, rnd) : URL_STRINGS[i % URL_STRINGS.length]))}`)
            .join('&');
          const body = valid === undefined ? undefined : i === 0 ? valid : mutate(valid, rnd);
          const res = await fetch(`${base}${path}${query ? `?${query}` : ''}`, {
            method: method.toUpperCase(),
            headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          calls++;
          const text = await res.text();
          const what = `${method.toUpperCase()} ${path.slice(0, 80)} ${JSON.stringify(body)?.slice(0, 120)} → ${res.status} ${text.slice(0, 160)}`;
          if (res.status >= 500) failures.push(what);
          else if (res.status >= 400) {
            const type = res.headers.get('content-type') ?? '';
            let code: unknown;
            try {
              code = (JSON.parse(text) as { code?: unknown }).code;
            } catch {
              code = undefined;
            }
            // SCIM answers with its own error body (RFC 7644 §3.12); every other route with problem+json.
            const scim = path.startsWith('/scim/') && type.includes('application/scim+json');
            if (!scim && (!type.includes('application/problem+json') || typeof code !== 'string')) failures.push(`not a problem: ${what}`);
          }
        }
      }
    }
    expect(calls).toBeGreaterThan(500);
    expect(failures).toEqual([]);
  });
});
