import { importSPKI } from 'jose';

import type { Permissions } from '@signet/permissions';
import type { IdpProviderKind } from '@signet/persistence';
import { MAX_FILTERS_PER_DIRECTION, resolvePermissions } from '@signet/tokens';

import { invalidProviderSettings } from '../errors';
import { idpUrlProblem } from '../verification/fetch';
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, isAsymmetric, isHmac } from '../verification/jwt';

export const IDP_PROVIDER_KINDS: readonly IdpProviderKind[] = ['supabase', 'firebase', 'auth0', 'clerk', 'oidc', 'jwt'];

/** Where the user id and the roles are read from, and what they grant. */
export interface ClaimMapping {
  /** Dotted path; default `sub`. */
  user_id_claim: string;
  /** Dotted path to a string or a list of strings, e.g. `app_metadata.roles`, `https://example.com/roles`, `org_role`. */
  role_claim?: string;
  /** What every user of this provider gets; omitted → the core default (`users/{user_id}/#` both ways). */
  permissions?: Permissions;
  /** What each role adds. A role without an entry (or no role at all) adds nothing. */
  role_permissions?: Record<string, Permissions>;
}

/** The non-secret settings of a provider, as stored and as returned (snake_case, as on the wire). */
export interface ProviderSettings extends ClaimMapping {
  project_url?: string;
  project_id?: string;
  domain?: string;
  issuer?: string;
  audience?: string;
  jwks_uri?: string;
  public_key?: string;
  algorithms?: string[];
  authorized_parties?: string[];
}

/** Every field a request may set; `null` in an update removes an optional field. */
export interface ProviderInput {
  project_url?: string | null;
  project_id?: string | null;
  domain?: string | null;
  issuer?: string | null;
  audience?: string | null;
  jwks_uri?: string | null;
  public_key?: string | null;
  algorithms?: string[] | null;
  authorized_parties?: string[] | null;
  user_id_claim?: string | null;
  role_claim?: string | null;
  permissions?: { publish?: string[]; subscribe?: string[] } | null;
  role_permissions?: Record<string, unknown> | null;
  jwt_secret?: string | null;
  shared_secret?: string | null;
}

type SettingField = Exclude<keyof ProviderSettings, keyof ClaimMapping>;
const MAPPING_FIELDS = ['user_id_claim', 'role_claim', 'permissions', 'role_permissions'] as const;
const SETTING_FIELDS: readonly SettingField[] = [
  'project_url',
  'project_id',
  'domain',
  'issuer',
  'audience',
  'jwks_uri',
  'public_key',
  'algorithms',
  'authorized_parties',
];

interface KindRules {
  required: readonly SettingField[];
  optional: readonly SettingField[];
  /** The field that carries this kind's shared secret, if it has one. */
  secret?: 'jwt_secret' | 'shared_secret';
}

export const KIND_RULES: Record<IdpProviderKind, KindRules> = {
  supabase: { required: ['project_url'], optional: ['audience'], secret: 'jwt_secret' },
  firebase: { required: ['project_id'], optional: [] },
  auth0: { required: ['domain', 'audience'], optional: [] },
  clerk: { required: ['issuer'], optional: ['audience', 'authorized_parties'] },
  oidc: { required: ['issuer'], optional: ['audience', 'algorithms'] },
  jwt: { required: ['issuer', 'audience', 'algorithms'], optional: ['jwks_uri', 'public_key'], secret: 'shared_secret' },
};

/** HS256 needs a key of at least the hash size (RFC 7518 §3.2). */
const MIN_SECRET_LENGTH = 32;
const MAX_SECRET_LENGTH = 4096;
const MAX_PEM_LENGTH = 16 * 1024;
const MAX_STRING = 512;
const MAX_CLAIM_PATH = 256;
const MAX_ROLES = 100;
const MAX_ROLE_LENGTH = 256;
const FIREBASE_PROJECT_ID = /^[a-z0-9][a-z0-9-]{2,62}$/;
const HOSTNAME = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;

const invalid = invalidProviderSettings;

export interface ValidatedProvider {
  settings: ProviderSettings;
  /** The shared secret in clear (to be sealed); null: none. */
  secret: string | null;
}

/**
 * Validates a provider's settings as a whole (on create, and on update after
 * merging the change into what is stored): the fields its kind requires, none
 * it does not know, https URLs (loopback excepted), pinned algorithms that
 * fit the key material, and a claim mapping whose grants are valid templates.
 */
export async function validateProvider(kind: IdpProviderKind, input: ProviderInput, currentSecret: string | null = null): Promise<ValidatedProvider> {
  const rules = KIND_RULES[kind];
  const settings: ProviderSettings = { user_id_claim: 'sub' };
  for (const field of SETTING_FIELDS) {
    const value = input[field];
    if (value === undefined || value === null) {
      if (rules.required.includes(field)) throw invalid(field, `is required for ${kind} providers`);
      continue;
    }
    if (!rules.required.includes(field) && !rules.optional.includes(field)) throw invalid(field, `does not apply to ${kind} providers`);
  }
  for (const name of ['jwt_secret', 'shared_secret'] as const) {
    if (typeof input[name] === 'string' && rules.secret !== name) throw invalid(name, `does not apply to ${kind} providers`);
  }
  let secret = currentSecret;
  if (rules.secret) {
    const given = input[rules.secret];
    if (given === null) secret = null;
    else if (given !== undefined) secret = checkSecret(rules.secret, given);
  } else {
    secret = null;
  }

  if (input.project_url != null) settings.project_url = checkUrl('project_url', input.project_url).replace(/\/+$/, '');
  if (input.project_id != null) {
    if (!FIREBASE_PROJECT_ID.test(input.project_id)) throw invalid('project_id', 'must be a Firebase project id (lowercase letters, digits, hyphens)');
    settings.project_id = input.project_id;
  }
  if (input.domain != null) settings.domain = checkDomain(input.domain);
  if (input.issuer != null) {
    const issuer = checkUrl('issuer', input.issuer);
    // Clerk's iss is the Frontend API URL without a trailing slash; OIDC and JWT issuers are compared exactly as given.
    settings.issuer = kind === 'clerk' ? issuer.replace(/\/+$/, '') : issuer;
  }
  if (input.audience != null) settings.audience = checkString('audience', input.audience, MAX_STRING);
  if (input.jwks_uri != null) settings.jwks_uri = checkUrl('jwks_uri', input.jwks_uri);
  if (input.authorized_parties != null) {
    if (!Array.isArray(input.authorized_parties) || input.authorized_parties.length > 20) {
      throw invalid('authorized_parties', 'must be a list of at most 20 origins');
    }
    settings.authorized_parties = input.authorized_parties.map((p, i) => checkString(`authorized_parties[${i}]`, p, MAX_STRING));
  }
  if (input.algorithms != null) settings.algorithms = checkAlgorithms(input.algorithms);

  if (kind === 'jwt') {
    const sources = [settings.jwks_uri !== undefined, input.public_key != null, secret !== null].filter(Boolean).length;
    if (sources !== 1) throw invalid('jwks_uri', 'or public_key or shared_secret: exactly one is required for jwt providers');
    const algorithms = settings.algorithms ?? [];
    if (secret !== null && !algorithms.every(isHmac)) throw invalid('algorithms', `must all be ${HMAC_ALGORITHMS.join('/')} with a shared_secret`);
    if (secret === null && !algorithms.every(isAsymmetric)) throw invalid('algorithms', 'must all be asymmetric with jwks_uri or public_key');
  }
  if (kind === 'oidc' && settings.algorithms && !settings.algorithms.every(isAsymmetric)) {
    throw invalid('algorithms', 'must all be asymmetric for oidc providers');
  }
  if (input.public_key != null) settings.public_key = await checkPublicKey(input.public_key, settings.algorithms ?? []);

  Object.assign(settings, checkMapping(input));
  return { settings, secret };
}

/** Merges an update into stored settings; `null` removes a field. */
export function mergeInput(stored: ProviderSettings, change: ProviderInput): ProviderInput {
  const merged: ProviderInput = { ...(stored as ProviderInput) };
  for (const [field, value] of Object.entries(change) as [keyof ProviderInput, ProviderInput[keyof ProviderInput]][]) {
    if (value === undefined) continue;
    (merged as Record<string, unknown>)[field] = value;
  }
  return merged;
}

function checkMapping(input: ProviderInput): ClaimMapping {
  const mapping: ClaimMapping = { user_id_claim: input.user_id_claim == null ? 'sub' : checkClaimPath('user_id_claim', input.user_id_claim) };
  if (input.role_claim != null) mapping.role_claim = checkClaimPath('role_claim', input.role_claim);
  const publish = new Set<string>();
  const subscribe = new Set<string>();
  const add = (p: Permissions) => {
    p.publish.forEach((f) => publish.add(f));
    p.subscribe.forEach((f) => subscribe.add(f));
  };
  if (input.permissions != null) {
    mapping.permissions = resolvePermissions(input.permissions);
    add(mapping.permissions);
  }
  if (input.role_permissions != null) {
    const entries = Object.entries(input.role_permissions);
    if (entries.length > MAX_ROLES) throw invalid('role_permissions', `may map at most ${MAX_ROLES} roles`);
    const roles: Record<string, Permissions> = {};
    for (const [role, grant] of entries) {
      if (role.length === 0 || role.length > MAX_ROLE_LENGTH) throw invalid('role_permissions', `role names must be 1 to ${MAX_ROLE_LENGTH} characters`);
      if (typeof grant !== 'object' || grant === null || Array.isArray(grant)) {
        throw invalid(`role_permissions.${role}`, 'must be an object { "publish": [...], "subscribe": [...] }');
      }
      const { publish: pub, subscribe: sub, ...rest } = grant as Record<string, unknown>;
      if (Object.keys(rest).length > 0) throw invalid(`role_permissions.${role}`, 'may only have publish and subscribe');
      if ((pub !== undefined && !isStringList(pub)) || (sub !== undefined && !isStringList(sub))) {
        throw invalid(`role_permissions.${role}`, 'publish and subscribe must be lists of topic filters');
      }
      roles[role] = resolvePermissions({ publish: pub, subscribe: sub });
      add(roles[role]);
    }
    mapping.role_permissions = roles;
  }
  // A user holding every role must still fit in one token.
  if (publish.size > MAX_FILTERS_PER_DIRECTION || subscribe.size > MAX_FILTERS_PER_DIRECTION) {
    throw invalid('role_permissions', `permissions and role_permissions together may list at most ${MAX_FILTERS_PER_DIRECTION} distinct filters per direction`);
  }
  return mapping;
}

const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

function checkString(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw invalid(field, `must be a string of 1 to ${max} characters`);
  return value;
}

function checkUrl(field: string, value: string): string {
  checkString(field, value, 2048);
  const problem = idpUrlProblem(value);
  if (problem) throw invalid(field, problem);
  return value;
}

function checkDomain(value: string): string {
  checkString('domain', value, 2048);
  if (value.includes('://')) {
    const problem = idpUrlProblem(value);
    if (problem) throw invalid('domain', problem);
    const url = new URL(value);
    if (url.pathname !== '/' || url.search !== '') throw invalid('domain', 'must be a host name or an origin, without a path');
    return url.origin;
  }
  if (!HOSTNAME.test(value)) throw invalid('domain', 'must be a host name such as example.eu.auth0.com');
  return value.toLowerCase();
}

function checkClaimPath(field: string, value: string): string {
  checkString(field, value, MAX_CLAIM_PATH);
  return value;
}

function checkSecret(field: string, value: string): string {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || value.length > MAX_SECRET_LENGTH) {
    throw invalid(field, `must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters`);
  }
  return value;
}

function checkAlgorithms(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 10) throw invalid('algorithms', 'must be a non-empty list');
  for (const alg of value) {
    if (typeof alg !== 'string' || !(isAsymmetric(alg) || isHmac(alg))) {
      throw invalid('algorithms', `must be among ${[...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS].join(', ')}`);
    }
  }
  return [...new Set(value as string[])];
}

async function checkPublicKey(pem: string, algorithms: string[]): Promise<string> {
  checkString('public_key', pem, MAX_PEM_LENGTH);
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) throw invalid('public_key', 'must be a PEM SubjectPublicKeyInfo ("BEGIN PUBLIC KEY")');
  for (const alg of algorithms) {
    try {
      await importSPKI(pem, alg);
    } catch {
      throw invalid('public_key', `cannot verify ${alg} signatures`);
    }
  }
  return pem;
}

export const secretField = (kind: IdpProviderKind): 'jwt_secret' | 'shared_secret' | undefined => KIND_RULES[kind].secret;
export const MAPPING_FIELD_NAMES = MAPPING_FIELDS;
