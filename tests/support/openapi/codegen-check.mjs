// The OpenAPI document drives a code generator: validated with
// @seriousme/openapi-schema-validator, turned into types by openapi-typescript,
// and a client written against those types (openapi-fetch) is type-checked with
// tsc and then run against the live API. ESM-only packages, so a child process.
//
// argv: <document.json> <work dir> <API base URL> <sk_ key>
// stdout: one JSON line { valid, errors, diagnostics, badDiagnostics, result }
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Validator } from '@seriousme/openapi-schema-validator';
import openapiTS, { astToString } from 'openapi-typescript';

const require = createRequire(import.meta.url);
const ts = require('typescript');

const [documentPath, dir, baseUrl, apiKey] = process.argv.slice(2);
const document = JSON.parse(await readFile(documentPath, 'utf8'));

const validator = new Validator();
const validation = await validator.validate(document);

await writeFile(join(dir, 'schema.d.ts'), astToString(await openapiTS(document)));

const CLIENT = `
import createClient from 'openapi-fetch';
import type { paths } from './schema';

export async function run(baseUrl: string, apiKey: string) {
  const admin = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + apiKey } });
  const created = await admin.POST('/v1/keys', { body: { name: 'codegen-backend', type: 'restricted', scopes: ['tokens:write', 'mqtt:publish:users/#', 'mqtt:subscribe:users/#'] } });
  if (!created.data) throw new Error('creating a key failed: ' + JSON.stringify(created.error));
  const key: string = created.data.key;
  const backend = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + key } });
  const issued = await backend.POST('/v1/tokens', { body: { user_id: 'codegen-user', ttl_seconds: 300 } });
  if (!issued.data) throw new Error('issuing a token failed: ' + JSON.stringify(issued.error));
  const password: string = issued.data.mqtt_credentials.password;
  const missing = await admin.GET('/v1/idp-providers/{id}', { params: { path: { id: 'idp_000000000000000000000000' } } });
  const code: string | undefined = missing.error?.code;
  const health = await admin.GET('/healthz');
  const status: 'ok' | undefined = health.data?.status;
  return { keyPrefix: key.slice(0, 3), username: issued.data.mqtt_credentials.username, passwordPrefix: password.slice(0, 4), missingCode: code, health: status };
}
`;
// The same call with a field the API does not have: the generated types must refuse it.
const BAD_CLIENT = `
import createClient from 'openapi-fetch';
import type { paths } from './schema';
export const bad = () => createClient<paths>({ baseUrl: 'http://x' }).POST('/v1/tokens', { body: { userid: 'x' } });
`;
await writeFile(join(dir, 'client.ts'), CLIENT);
await writeFile(join(dir, 'bad-client.ts'), BAD_CLIENT);

function typeCheck(file) {
  const options = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: false,
    types: [],
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    baseUrl: dir,
    paths: { 'openapi-fetch': [require.resolve('openapi-fetch').replace(/index\.cjs$/, 'index.d.mts')] },
  };
  const program = ts.createProgram([join(dir, file)], options);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

const diagnostics = typeCheck('client.ts');
const badDiagnostics = typeCheck('bad-client.ts');

let result = null;
if (diagnostics.length === 0) {
  const js = ts
    .transpileModule(CLIENT, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
    .outputText.replace("from 'openapi-fetch'", `from '${pathToFileURL(require.resolve('openapi-fetch')).href.replace(/index\.cjs$/, 'index.mjs')}'`);
  await writeFile(join(dir, 'client.mjs'), js);
  const { run } = await import(pathToFileURL(join(dir, 'client.mjs')).href);
  result = await run(baseUrl, apiKey);
}

process.stdout.write(JSON.stringify({ valid: validation.valid, errors: validation.errors ?? null, diagnostics, badDiagnostics, result }) + '\n');
