import { adminAction, createdId } from './admin-actions';

describe('adminAction', () => {
  it.each([
    ['POST', '/v1/keys', 'keys.create'],
    ['POST', '/v1/keys/:id/rotate', 'keys.rotate'],
    ['DELETE', '/v1/keys/:id', 'keys.revoke'],
    ['POST', '/v1/tokens', 'tokens.create'],
    ['DELETE', '/v1/tokens/:token_id', 'tokens.revoke'],
    ['POST', '/v1/users/:user_id/revoke', 'tokens.revoke_user'],
    ['PATCH', '/v1/org/settings', 'org_settings.update'],
    ['PATCH', '/v1/idp-providers/:id', 'idp_providers.update'],
    ['POST', '/v1/idp-providers/:id/disable', 'idp_providers.disable'],
    ['DELETE', '/v1/idp-providers/:id', 'idp_providers.delete'],
    ['PUT', '/v1/auth-webhook', 'auth_webhook.update'],
    ['POST', '/v1/auth-webhook/rotate-secret', 'auth_webhook.rotate_secret'],
    ['PUT', '/v1/directory/groups/:id/permissions', 'directory.groups_permissions.update'],
    ['POST', '/v1/directory/ldap/sync', 'directory.ldap_sync'],
    ['DELETE', '/v1/sessions/:client_id', 'sessions.kick'],
  ])('%s %s is %s', (method, route, action) => expect(adminAction(method, route)).toBe(action));
});

describe('createdId', () => {
  it('takes the id of what was created, never another field', () => {
    expect(createdId({ id: 'key_1', key: 'sk_secret' })).toBe('key_1');
    expect(createdId({ token_id: 'tok_1', refresh_token: 'rt_x' })).toBe('tok_1');
    expect(createdId({ key: 'sk_secret' })).toBeNull();
    expect(createdId('text')).toBeNull();
  });
});
