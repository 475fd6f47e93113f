/*
 * Escaping for values Signet puts into LDAP filters and DNs. The sync itself
 * sends only the operator's filters; these are for every value that comes
 * from elsewhere (a user name in a lookup, a DN built from an attribute).
 */

/** RFC 4515 §3: `*`, `(`, `)`, `\` and NUL as `\XX` in an assertion value. */
export function escapeFilterValue(value: string): string {
  // eslint-disable-next-line no-control-regex -- NUL is one of the characters RFC 4515 escapes
  return value.replace(/[\\*()\u0000]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** RFC 4514 §2.4: an attribute value inside a DN. */
export function escapeDnValue(value: string): string {
  // eslint-disable-next-line no-control-regex -- NUL is one of the characters RFC 4514 escapes
  let out = value.replace(/[\\,+"<>;=\u0000]/g, (c) => (c === '\u0000' ? '\\00' : `\\${c}`));
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** DNs compared as the server would, loosely: case and spaces around separators do not matter (member values vs entry DNs). */
export const normaliseDn = (dn: string): string => dn.replace(/\s*([,=+])\s*/g, '$1').toLowerCase();
