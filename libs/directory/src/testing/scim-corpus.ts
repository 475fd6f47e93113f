import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Request bodies as Okta's and Entra ID's SCIM provisioning clients send them
 * (scim-corpus/<idp>/<name>.json); `{{userId}}` and `{{groupId}}` are filled in.
 */
export function scimBody(idp: 'okta' | 'entra', name: string, ids: { userId?: string; groupId?: string } = {}): Record<string, unknown> {
  const text = readFileSync(join(__dirname, 'scim-corpus', idp, `${name}.json`), 'utf8')
    .replaceAll('{{userId}}', ids.userId ?? '')
    .replaceAll('{{groupId}}', ids.groupId ?? '');
  return JSON.parse(text) as Record<string, unknown>;
}
