import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'ldapts';

export const SLAPD_SUFFIX = 'dc=example,dc=org';
export const SLAPD_ROOT = { dn: `cn=admin,${SLAPD_SUFFIX}`, password: 'admin-secret' };
/** A service account for the sync: not the rootdn, so the server's size limits apply to it. */
export const SLAPD_SYNC = { dn: `cn=signet-sync,${SLAPD_SUFFIX}`, password: 'sync-secret' };
/** At most this many entries per search and per page: a full sync of more users needs paged results. */
export const SLAPD_SIZE_LIMIT = 10;

export interface Slapd {
  url: string;
  /** ldaps:// beside ldap:// (StartTLS there too), when started with a certificate. */
  ldapsUrl: string | null;
  /** A client bound as the rootdn, to change the directory in tests. */
  admin(): Promise<Client>;
  stop(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });

export interface SlapdTls {
  certFile: string;
  keyFile: string;
}

/**
 * Debian's OpenLDAP (`apt-get install slapd`), started on a free loopback port with an empty mdb
 * database; with `tls`, also ldaps:// on another, and StartTLS on the first.
 */
export async function startSlapd(tls?: SlapdTls): Promise<Slapd> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-slapd-'));
  await mkdir(join(dir, 'data'));
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = tls ? `ldaps://127.0.0.1:${await freePort()}` : null;
  await writeFile(
    join(dir, 'slapd.conf'),
    [
      ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${join(dir, 'slapd.pid')}`,
      ...(tls ? [`TLSCertificateFile ${tls.certFile}`, `TLSCertificateKeyFile ${tls.keyFile}`] : []),
      `sizelimit size.soft=${SLAPD_SIZE_LIMIT} size.hard=${SLAPD_SIZE_LIMIT} size.pr=unlimited size.prtotal=unlimited`,
      'database mdb',
      `suffix "${SLAPD_SUFFIX}"`,
      `rootdn "${SLAPD_ROOT.dn}"`,
      `rootpw ${SLAPD_ROOT.password}`,
      `directory ${join(dir, 'data')}`,
      'access to attrs=userPassword by self write by anonymous auth by * none',
      'access to * by * read',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('/usr/sbin/slapd', ['-f', join(dir, 'slapd.conf'), '-h', [`${url}/`, ...(ldapsUrl ? [`${ldapsUrl}/`] : [])].join(' '), '-d', '0'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const admin = async () => {
    const client = new Client({ url, timeout: 5000, connectTimeout: 2000 });
    await client.bind(SLAPD_ROOT.dn, SLAPD_ROOT.password);
    return client;
  };
  let ready: Client | undefined;
  for (let i = 0; i < 100 && !ready; i++) {
    try {
      ready = await admin();
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!ready) {
    child.kill();
    throw new Error('slapd did not start');
  }
  await ready.add(SLAPD_SUFFIX, { objectClass: ['top', 'dcObject', 'organization'], dc: 'example', o: 'Example' });
  await ready.add(`ou=people,${SLAPD_SUFFIX}`, { objectClass: ['organizationalUnit'], ou: 'people' });
  await ready.add(`ou=groups,${SLAPD_SUFFIX}`, { objectClass: ['organizationalUnit'], ou: 'groups' });
  await ready.add(SLAPD_SYNC.dn, { objectClass: ['organizationalRole', 'simpleSecurityObject'], cn: 'signet-sync', userPassword: SLAPD_SYNC.password });
  await ready.unbind();
  return {
    url,
    ldapsUrl,
    admin,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
