import { Command, Option } from 'commander';

import { canOpenBrowser, openBrowser } from '../browser';
import { EXIT } from '../errors';
import { pollDeviceLogin, revoke, startDeviceLogin, startLoopbackLogin, TokenSet } from '../oauth';
import type { Output } from '../output';
import type { Session } from '../session';
import { context, parseInteger } from './context';

export interface Me {
  account_id: string;
  org_id: string;
  username: string;
  role: string;
  expires_at: string;
}

async function signIn(session: Session, out: Output, opts: { device?: boolean; callbackPort?: number }): Promise<{ server: string; tokens: TokenSet }> {
  const server = await session.server();
  const device = opts.device === true || (opts.callbackPort === undefined && !canOpenBrowser());
  if (device) {
    const authorization = await startDeviceLogin(server);
    out.info(`To sign in, open ${authorization.verification_uri} and enter the code ${authorization.user_code}`);
    if (authorization.verification_uri_complete) out.info(`(or open ${authorization.verification_uri_complete})`);
    const stop = out.progress('Waiting for the sign-in');
    try {
      return { server, tokens: await pollDeviceLogin(server, authorization) };
    } finally {
      stop();
    }
  }
  const login = await startLoopbackLogin(server, opts.callbackPort);
  out.info(`Opening the browser to sign in. If it does not open, visit:\n  ${login.url}`);
  if (!(await openBrowser(login.url))) out.warn('no browser could be opened; open the URL above yourself');
  const stop = out.progress('Waiting for the browser');
  try {
    return { server, tokens: await login.tokens };
  } finally {
    stop();
  }
}

/** login, logout, whoami: the stored session of a profile. */
export function registerAuth(program: Command): void {
  program
    .command('login')
    .description('sign in through the browser (or with a device code) and store the session')
    .option('--device', 'use a device code to enter in a browser elsewhere (chosen by itself over SSH or without a display)')
    .addOption(new Option('--callback-port <port>', 'fixed loopback port for the redirect (for `ssh -L`)').argParser(parseInteger('--callback-port', 1, 65535)))
    .action(async (opts: { device?: boolean; callbackPort?: number }, command: Command) => {
      const { session, out } = context(command);
      const { server, tokens } = await signIn(session, out, opts);
      const profile = { server, access_token: tokens.access_token, refresh_token: tokens.refresh_token, expires_at: Date.now() + tokens.expires_in * 1000 };
      await session.store.save(session.profileName, profile);
      const me = await session.api<Me>('GET', '/v1/accounts/me');
      const account = { account_id: me.account_id, username: me.username, org_id: me.org_id, role: me.role };
      await session.store.save(session.profileName, { ...((await session.store.profile(session.profileName)) ?? profile), account });
      out.result({ profile: session.profileName, server, ...me }, () => `Signed in to ${server} as ${me.username} (${me.role} of ${me.org_id}); profile ${session.profileName}`);
    });

  program
    .command('logout')
    .description('revoke the session on the server, then forget it here')
    .option('--all', 'end every session of the account (every CLI and dashboard sign-in), not only this one')
    .action(async (opts: { all?: boolean }, command: Command) => {
      const { session, out } = context(command);
      const profile = await session.store.profile(session.profileName);
      if (!profile) {
        out.result({ profile: session.profileName, signed_out: false }, () => `Not signed in (profile ${session.profileName})`);
        return;
      }
      let revoked = true;
      let ended: number | undefined;
      try {
        if (opts.all) ended = (await session.api<{ revoked_grants: number }>('POST', '/v1/accounts/me/sign-out')).revoked_grants;
        if (profile.refresh_token) await revoke(profile.server, profile.refresh_token, 'refresh_token');
        await revoke(profile.server, profile.access_token, 'access_token');
      } catch (err) {
        revoked = false;
        out.warn(`${(err as Error).message}; the local session is deleted anyway`);
      } finally {
        await session.store.remove(session.profileName);
      }
      const everywhere = opts.all ? { all: true, revoked_grants: ended ?? null } : {};
      out.result({ profile: session.profileName, signed_out: true, revoked, ...everywhere }, () =>
        opts.all && revoked ? `Signed out of ${profile.server} everywhere (${ended} sign-ins ended)` : `Signed out of ${profile.server} (profile ${session.profileName})`,
      );
      if (!revoked) process.exitCode = EXIT.failure;
    });

  program
    .command('whoami')
    .description('who this CLI acts as: profile, server, account, org, role, expiry')
    .action(async (_opts: unknown, command: Command) => {
      const { session, out } = context(command);
      const server = await session.server();
      if (session.envToken) {
        // An API key has no account: whoami still says SIGNET_TOKEN is in use.
        const me = await session.api<Me>('GET', '/v1/accounts/me').catch(() => null);
        out.result({ source: 'SIGNET_TOKEN', server, ...(me ?? {}) }, () => `Using SIGNET_TOKEN against ${server}${me ? ` as ${me.username} (${me.role} of ${me.org_id})` : ' (an API key)'}`);
        return;
      }
      const me = await session.api<Me>('GET', '/v1/accounts/me');
      const value = { source: 'profile', profile: session.profileName, server, ...me };
      out.table(value, ['profile', 'server', 'account', 'org', 'role', 'expires'], [[session.profileName, server, me.username, me.org_id, me.role, me.expires_at]]);
    });
}
