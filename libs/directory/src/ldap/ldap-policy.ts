import { badRequest } from '@signet/http';

import { DIRECTORY_ERRORS } from '../errors';

/**
 * Checks an LDAP connection before it is stored or used: an empty bind
 * password would be an unauthenticated bind (RFC 4513 §5.1.2), which many
 * servers accept as anonymous; `ldaps://` or `ldap://` with StartTLS, plain
 * `ldap://` only when the operator allows it (SIGNET_LDAP_ALLOW_PLAIN).
 */
export function checkLdapConnection(
  c: { url: string; bindDn: string; bindPassword: string; starttls: boolean; maxDisableShare: number },
  allowPlain: boolean,
): void {
  if (c.bindPassword.length === 0) throw badRequest(DIRECTORY_ERRORS.ldapEmptyPassword, 'bind_password must not be empty: an empty password is an anonymous bind');
  if (c.bindDn.trim() === '') throw badRequest(DIRECTORY_ERRORS.invalidLdapConnection, 'bind_dn is required');
  let url: URL;
  try {
    url = new URL(c.url);
  } catch {
    throw badRequest(DIRECTORY_ERRORS.invalidLdapConnection, 'url must be an ldap:// or ldaps:// URL');
  }
  if (url.protocol !== 'ldaps:' && url.protocol !== 'ldap:') throw badRequest(DIRECTORY_ERRORS.invalidLdapConnection, 'url must be an ldap:// or ldaps:// URL');
  if (url.protocol === 'ldaps:' && c.starttls) throw badRequest(DIRECTORY_ERRORS.invalidLdapConnection, 'starttls is for ldap:// URLs; ldaps:// is TLS from the start');
  if (url.protocol === 'ldap:' && !c.starttls && !allowPlain) {
    throw badRequest(
      DIRECTORY_ERRORS.invalidLdapConnection,
      'plain ldap:// sends the bind password in the clear; use ldaps:// or starttls (this server does not allow plain LDAP: SIGNET_LDAP_ALLOW_PLAIN)',
    );
  }
  if (!(c.maxDisableShare >= 0 && c.maxDisableShare <= 1)) throw badRequest(DIRECTORY_ERRORS.invalidLdapConnection, 'max_disable_share must be between 0 and 1');
}
