import { Attribute, Change, type Client } from 'ldapts';

import type { Env } from '@signet/config';
import type { SignetProcess } from '@signet/runtime';

import { startSlapd, Slapd, SLAPD_SUFFIX, SLAPD_SYNC, SlapdTls } from '../../libs/directory/src/testing/slapd';
import { TokenApi } from './api';
import type { Endpoints } from './mqtt';
import { Backend, reach, realBackend, startSignet } from './signet';

/** Rejects when `promise` has not settled within `ms`: the bound the directory issue sets for a cut-off ("within seconds"). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms))),
  ]);
}

/** The body of PUT /v1/directory/ldap for the test's slapd, as the sync account. */
export const slapdConnection = (slapd: Slapd, extra: Record<string, unknown> = {}) => ({
  url: slapd.url,
  bind_dn: SLAPD_SYNC.dn,
  bind_password: SLAPD_SYNC.password,
  base_dn: SLAPD_SUFFIX,
  user_filter: '(objectClass=inetOrgPerson)',
  group_filter: '(objectClass=groupOfNames)',
  disabled_filter: '(employeeType=disabled)',
  max_disable_share: 0.2,
  ...extra,
});

const PEOPLE = `ou=people,${SLAPD_SUFFIX}`;
/** The DN of one of {@link seedPeople}'s users. */
export const personDn = (uid: string) => `uid=${uid},${PEOPLE}`;

/**
 * alice, bob, carol (disabled) and dan, each with the password `<uid>-pw`;
 * alice, carol and dan are in the group `ops`, bob in none.
 */
export async function seedPeople(admin: Client): Promise<void> {
  for (const uid of ['alice', 'bob', 'carol', 'dan']) {
    await admin.add(personDn(uid), { objectClass: ['inetOrgPerson'], uid, cn: uid, sn: uid, userPassword: `${uid}-pw`, employeeType: uid === 'carol' ? 'disabled' : 'staff' });
  }
  await admin.add(`cn=ops,ou=groups,${SLAPD_SUFFIX}`, { objectClass: ['groupOfNames'], cn: 'ops', member: [personDn('alice'), personDn('carol'), personDn('dan')] });
}

/** Changes one attribute of one of {@link seedPeople}'s users. */
export const replacePersonAttribute = (admin: Client, uid: string, type: string, value: string) =>
  admin.modify(personDn(uid), new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) }));

/**
 * Connects the org of `api` (the directory's HTTP API) to slapd, syncs
 * {@link seedPeople}, and lets `ops` publish under `devices/{user_id}/` and
 * subscribe to `ops/#`.
 */
export async function connectPeople(api: TokenApi, slapd: Slapd): Promise<void> {
  const saved = await api.call('PUT', '/v1/directory/ldap', slapdConnection(slapd, { max_disable_share: 1 }));
  if (saved.status !== 200) throw new Error(`PUT /v1/directory/ldap answered ${saved.status}: ${JSON.stringify(saved.body)}`);
  const synced = await syncLdap(api);
  if (synced.status !== 'ok') throw new Error(`the sync of slapd failed: ${synced.reason ?? ''}`);
  const groups = (await api.call('GET', '/v1/directory/groups')).body.groups as Array<{ id: string; display_name: string }>;
  const ops = groups.find((g) => g.display_name === 'ops')!;
  const granted = await api.call('PUT', `/v1/directory/groups/${ops.id}/permissions`, { publish: ['devices/{user_id}/#'], subscribe: ['ops/#'] });
  if (granted.status !== 200) throw new Error(`granting ops permissions answered ${granted.status}`);
}

/** The answer of POST /v1/directory/ldap/sync. */
export interface LdapSyncAnswer {
  kind: string;
  status: string;
  reason?: string;
  full_because?: string;
  counts?: Record<string, number>;
}

export async function syncLdap(api: TokenApi, kind: 'full' | 'incremental' = 'full'): Promise<LdapSyncAnswer> {
  const res = await api.call('POST', `/v1/directory/ldap/sync?kind=${kind}`);
  if (res.status !== 200) throw new Error(`POST /v1/directory/ldap/sync answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as unknown as LdapSyncAnswer;
}

/** A test's slapd and the all-in-one beside it (PostgreSQL + Redis), with the bootstrap key's API. */
export interface LdapBench {
  slapd: Slapd;
  /** Bound as the rootdn, to change the directory. */
  admin: Client;
  backend: Backend;
  signet: SignetProcess;
  api: TokenApi;
  endpoints: Endpoints;
  orgId: string;
  close(): Promise<void>;
}

/**
 * Starts slapd (seeded by `seed`) and the all-in-one. Plain ldap:// is allowed
 * (SIGNET_LDAP_ALLOW_PLAIN) unless `env` says otherwise, and only when the
 * slapd has no certificate: a bench with `tls` tests the TLS rules.
 */
export async function startLdapBench(label: string, seed: (admin: Client) => Promise<void>, env: Env = {}, tls?: SlapdTls): Promise<LdapBench> {
  // Stopped in reverse order, also when a later step of the start fails.
  const stops: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    const slapd = await startSlapd(tls);
    stops.push(() => slapd.stop());
    const admin = await slapd.admin();
    stops.push(() => admin.unbind());
    await seed(admin);
    const backend = await realBackend(label);
    stops.push(() => backend.cleanup());
    const signet = await startSignet(backend, { ...(tls ? {} : { SIGNET_LDAP_ALLOW_PLAIN: 'true' }), ...env });
    stops.push(() => signet.close());
    const { anonymous, endpoints } = reach(signet);
    const api = anonymous.withKey(signet.service!.bootstrap!.apiKey);
    return { slapd, admin, backend, signet, api, endpoints, orgId: signet.service!.bootstrap!.orgId, close };
  } catch (err) {
    await close();
    throw err;
  }
}
