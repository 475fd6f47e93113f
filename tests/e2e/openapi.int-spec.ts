import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { SignetProcess } from '@signet/runtime';

import { Backend, realBackend, startSignet } from '../support/signet';

/*
 * The OpenAPI document of the all-in-one is usable by a code generator:
 * valid per the OpenAPI schema (@seriousme/openapi-schema-validator), typed
 * precisely enough for openapi-typescript, and a client written against the
 * generated types (openapi-fetch) type-checks and then creates a key and a
 * token against the running process.
 */

jest.setTimeout(120_000);

let backend: Backend;
let signet: SignetProcess;
let api: string;
let document: {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }>; security?: unknown[] }>>;
  components: { schemas: Record<string, { properties?: Record<string, { type?: string; nullable?: boolean }> }>; securitySchemes: Record<string, Record<string, unknown>> };
};
let dir: string;

beforeAll(async () => {
  backend = await realBackend('openapi');
  signet = await startSignet(backend);
  api = `http://127.0.0.1:${signet.ports.http}`;
  document = (await (await fetch(`${api}/docs/openapi.json`)).json()) as typeof document;
  dir = await mkdtemp(join(tmpdir(), 'signet-openapi-'));
});

afterAll(async () => {
  await signet?.close();
  await backend?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('types the IdP provider string fields as strings, not objects', () => {
  const fields = document.components.schemas['CreateIdpProviderDto'].properties!;
  for (const name of ['project_url', 'jwt_secret', 'project_id', 'domain', 'issuer', 'audience', 'jwks_uri', 'public_key', 'shared_secret', 'user_id_claim', 'role_claim']) {
    expect({ name, type: fields[name].type }).toEqual({ name, type: 'string' });
  }
  expect(fields['permissions'].type).toBe('object');
});

it('declares problem+json errors per status with their codes, the health routes, and no JWT bearer format', () => {
  const exchange = document.paths['/v1/federation/exchange'].post.responses;
  expect(JSON.stringify(exchange['401'].content!['application/problem+json'])).toContain('invalid_signature');
  expect(JSON.stringify(exchange['503'].content!['application/problem+json'])).toContain('idp_unavailable');
  const keys = document.paths['/v1/keys'].post.responses;
  expect(JSON.stringify(keys['401'])).toContain('invalid_api_key');
  expect(JSON.stringify(keys['400'])).toContain('validation_failed');
  const logout = document.paths['/v1/idp-events/{provider_id}/backchannel-logout'].post.responses;
  expect(JSON.stringify(logout['400'])).toContain('invalid_logout_token');
  for (const path of ['/healthz', '/readyz', '/metrics']) expect(document.paths[path]?.get).toBeDefined();
  for (const scheme of Object.values(document.components.securitySchemes)) expect(scheme).not.toHaveProperty('bearerFormat');
});

it('is valid OpenAPI, generates types, and a typed openapi-fetch client creates a key and a token', async () => {
  const file = join(dir, 'openapi.json');
  await writeFile(file, JSON.stringify(document));
  const script = join(__dirname, '..', 'support', 'openapi', 'codegen-check.mjs');
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [script, file, dir, api, signet.service!.bootstrap!.apiKey], { timeout: 90_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${out}${errOut}`)) : resolve(out),
    ),
  );
  const report = JSON.parse(stdout) as { valid: boolean; errors: unknown; diagnostics: string[]; badDiagnostics: string[]; result: Record<string, unknown> | null };
  expect(report.errors ?? null).toBeNull();
  expect(report.valid).toBe(true);
  expect(report.diagnostics).toEqual([]);
  // A field the API does not have is a type error: the types say something.
  expect(report.badDiagnostics.join('\n')).toMatch(/userid/);
  expect(report.result).toEqual({
    keyPrefix: 'rk_',
    username: expect.stringMatching(/^codegen-user@org_/),
    passwordPrefix: 'tkn_',
    missingCode: 'idp_provider_not_found',
    health: 'ok',
  });
});
