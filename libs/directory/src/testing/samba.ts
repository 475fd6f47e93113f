import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Client } from 'ldapts';

const run = promisify(execFile);

export const SAMBA_REALM = 'SIGNET.TEST';
export const SAMBA_BASE_DN = 'DC=signet,DC=test';
export const SAMBA_ADMIN = { dn: `CN=Administrator,CN=Users,${SAMBA_BASE_DN}`, password: 'Signet-Adm1n-Passw0rd' };
/** NORMAL_ACCOUNT | PASSWD_NOTREQD: an enabled account without a password; with ACCOUNTDISABLE (0x2), a disabled one. */
export const UAC_ENABLED = '544';
export const UAC_DISABLED = '546';

export interface SambaAd {
  /** ldap:// on the DC's address inside the test's network namespace (StartTLS there too). */
  url: string;
  /** ldaps:// on the same address. */
  ldapsUrl: string;
  /** PEM of the CA (made with openssl for this DC) that issued its LDAPS certificate for its address. */
  caPem: string;
  /** The DC's address (the certificate of an LDAPS test names it). */
  address: string;
  /** A client bound as the domain Administrator, to change the directory in tests. */
  admin(): Promise<Client>;
  /** `samba-tool` against the DC's database (an independent view of what it stores). */
  tool(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A real Samba AD domain controller (Debian's `samba`), provisioned into a
 * temporary directory and run in the foreground in a network namespace of
 * its own: Samba's LDAP has no port option (389/636), so it gets a private
 * address on a veth pair (a /30 of 10.213.0.0/16) instead of the host's ports.
 * Only the LDAP service runs, with LDAPS and StartTLS from a CA made for it.
 * Needs root (ip netns). stop() removes the process, the namespace and the
 * directory; so does this process's exit.
 */
export async function startSambaAd(): Promise<SambaAd> {
  const id = randomBytes(3).toString('hex');
  const ns = `signet-ad-${id}`;
  const [hostIf, nsIf] = [`sad${id}h`, `sad${id}s`];
  const block = randomInt(0, 256 * 64) * 4;
  const net = `10.213.${block >> 8}.`;
  const [hostIp, dcIp] = [`${net}${(block & 0xff) + 1}`, `${net}${(block & 0xff) + 2}`];
  const dir = await mkdtemp(join(tmpdir(), 'signet-samba-'));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const removeNamespace = () => {
    spawnSync('ip', ['link', 'del', hostIf], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  };
  const onExit = () => {
    child?.kill('SIGKILL');
    removeNamespace();
  };
  process.once('exit', onExit);
  const stop = async () => {
    process.off('exit', onExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    removeNamespace();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    await run('ip', ['link', 'set', nsIf, 'netns', ns]);
    await run('ip', ['addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    await run('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${dcIp}/30`, 'dev', nsIf]);
    await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up']);
    await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);

    // --use-rfc2307 as a real domain would have it; no DNS (the test reaches the DC by address).
    await run(
      'samba-tool',
      ['domain', 'provision', '--use-rfc2307', `--realm=${SAMBA_REALM}`, '--domain=SIGNET', '--server-role=dc', '--dns-backend=NONE', `--adminpass=${SAMBA_ADMIN.password}`, `--targetdir=${dir}`],
      { timeout: 120_000 },
    );
    const tls = await issueCertificate(dir, dcIp);
    const conf = join(dir, 'etc', 'smb.conf');
    const own = [
      'tls enabled = yes',
      `tls keyfile = ${tls.keyFile}`,
      `tls certfile = ${tls.certFile}`,
      `tls cafile = ${tls.caFile}`,
      `interfaces = ${nsIf}`,
      'bind interfaces only = yes',
      // LDAP only: no SMB, KDC, DNS, replication.
      'server services = ldap',
      // Simple binds over plain LDAP, as the test's first connection makes them (production uses LDAPS or StartTLS).
      'ldap server require strong auth = no',
      `pid directory = ${dir}`,
      `log file = ${join(dir, 'log.%m')}`,
    ];
    const provisioned = (await readFile(conf, 'utf8')).replace(/^\s*(interfaces|bind interfaces only|server services|log file)\s*=.*$/gm, '');
    await writeFile(conf, provisioned.replace('[global]', `[global]\n${own.map((l) => `\t${l}`).join('\n')}`));

    child = spawn('ip', ['netns', 'exec', ns, 'samba', '-i', '-M', 'single', '-s', conf, '--maximum-runtime=900'], { stdio: 'ignore' });
    exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    const url = `ldap://${dcIp}`;
    const admin = async () => {
      const client = new Client({ url, timeout: 10_000, connectTimeout: 2000 });
      await client.bind(SAMBA_ADMIN.dn, SAMBA_ADMIN.password);
      return client;
    };
    let ready: Client | undefined;
    for (let i = 0; i < 150 && !ready && child.exitCode === null; i++) {
      try {
        ready = await admin();
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    if (!ready) throw new Error('samba did not start');
    await ready.unbind();
    const tool = async (...args: string[]) => (await run('samba-tool', [...args, '-H', `tdb://${join(dir, 'private', 'sam.ldb')}`, '-s', conf])).stdout;
    return { url, ldapsUrl: `ldaps://${dcIp}`, caPem: await readFile(tls.caFile, 'utf8'), address: dcIp, admin, tool, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A CA and the DC's certificate for its IP address, with openssl; Samba wants the key readable by its owner only. */
async function issueCertificate(dir: string, ip: string): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
  await openssl('req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '2', '-subj', '/CN=Signet Test AD CA', '-out', 'ca.pem');
  await openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'dc.key');
  await openssl('req', '-new', '-key', 'dc.key', '-subj', `/CN=${ip}`, '-out', 'dc.csr');
  await writeFile(file('dc.ext'), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`);
  await openssl('x509', '-req', '-in', 'dc.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '1', '-days', '2', '-sha256', '-extfile', 'dc.ext', '-out', 'dc.pem');
  await chmod(file('dc.key'), 0o600);
  return { caFile: file('ca.pem'), certFile: file('dc.pem'), keyFile: file('dc.key') };
}
