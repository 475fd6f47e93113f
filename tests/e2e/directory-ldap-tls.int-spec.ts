/**
 * LDAP sync over TLS against a real OpenLDAP slapd with a certificate from a
 * CA the test makes with openssl: ldaps:// and StartTLS with the org's CA
 * pinned, a server of another CA refused, and plain ldap:// refused because
 * this operator did not allow it (SIGNET_LDAP_ALLOW_PLAIN unset).
 */
import type { SignetProcess } from '@signet/runtime';

import { startSlapd, Slapd, SLAPD_SUFFIX, SLAPD_SYNC } from '../../libs/directory/src/testing/slapd';
import { makeTestPki, type TestPki } from '../../libs/mqtt/edge/src/testing/certs';
import { TokenApi } from '../support/api';
import { Backend, reach, realBackend, startSignet } from '../support/signet';

describe('LDAP sync over TLS (slapd with a test CA)', () => {
  let pki: TestPki;
  let otherPki: TestPki;
  let slapd: Slapd;
  let backend: Backend;
  let signet: SignetProcess;
  let api: TokenApi;

  const connection = (extra: Record<string, unknown>) => ({
    bind_dn: SLAPD_SYNC.dn,
    bind_password: SLAPD_SYNC.password,
    base_dn: SLAPD_SUFFIX,
    user_filter: '(objectClass=inetOrgPerson)',
    group_filter: '(objectClass=groupOfNames)',
    tls_ca: pki.ca.toString('utf8'),
    ...extra,
  });
  const configureAndSync = async (extra: Record<string, unknown>) => {
    const saved = await api.call('PUT', '/v1/directory/ldap', connection(extra));
    expect(saved.status).toBe(200);
    return (await api.call('POST', '/v1/directory/ldap/sync')).body as { status: string; reason?: string; counts?: Record<string, number> };
  };

  beforeAll(async () => {
    pki = makeTestPki();
    otherPki = makeTestPki();
    slapd = await startSlapd(pki.issue('slapd', 'localhost'));
    const admin = await slapd.admin();
    await admin.add(`uid=tess,ou=people,${SLAPD_SUFFIX}`, { objectClass: ['inetOrgPerson'], uid: 'tess', cn: 'tess', sn: 'tess' });
    await admin.unbind();
    backend = await realBackend('directory_ldap_tls');
    signet = await startSignet(backend);
    api = reach(signet).anonymous.withKey(signet.service!.bootstrap!.apiKey);
  });

  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
    await slapd?.stop();
    pki?.cleanup();
    otherPki?.cleanup();
  });

  it('refuses plain ldap:// when the operator has not allowed it', async () => {
    const plain = await api.call('PUT', '/v1/directory/ldap', connection({ url: slapd.url }));
    expect(plain.status).toBe(400);
    expect(plain.body.code).toBe('invalid_ldap_connection');
    expect(plain.body.detail).toContain('SIGNET_LDAP_ALLOW_PLAIN');
    const both = await api.call('PUT', '/v1/directory/ldap', connection({ url: slapd.ldapsUrl, starttls: true }));
    expect(both.body.code).toBe('invalid_ldap_connection');
  });

  it('syncs over ldaps:// with the pinned CA', async () => {
    expect(await configureAndSync({ url: slapd.ldapsUrl })).toMatchObject({ status: 'ok', counts: { users: 1 } });
  });

  it('syncs over ldap:// upgraded with StartTLS', async () => {
    const synced = await configureAndSync({ url: slapd.url, starttls: true });
    expect(synced).toMatchObject({ status: 'ok', counts: { users: 1 } });
    expect((await api.call('GET', '/v1/directory/ldap/status')).body.last_sync).toMatchObject({ status: 'ok' });
  });

  it('refuses a server whose certificate is not from the pinned CA, over ldaps:// and StartTLS, before the bind', async () => {
    for (const extra of [{ url: slapd.ldapsUrl }, { url: slapd.url, starttls: true }]) {
      const refused = await configureAndSync({ ...extra, tls_ca: otherPki.ca.toString('utf8') });
      expect(refused.status).toBe('failed');
      expect(refused.reason).toMatch(/certificate/i);
      expect(refused.reason).not.toContain(SLAPD_SYNC.password);
    }
  });
});
