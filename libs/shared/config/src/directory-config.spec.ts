import { loadConfig } from './config';

describe('directory config', () => {
  it('syncs LDAP every 15 minutes by default, fully once a day; 0 turns the schedule off', () => {
    expect(loadConfig({}).directory).toEqual({ ldapSyncIntervalMs: 900_000, ldapFullSyncIntervalMs: 86_400_000, ldapAllowPlain: false, ldapBindCacheSeconds: 300, serviceGrpc: undefined });
    expect(loadConfig({ SIGNET_LDAP_SYNC_INTERVAL_MS: '0' }).directory.ldapSyncIntervalMs).toBe(0);
  });

  it('allows plain ldap:// only when the operator says so', () => {
    expect(loadConfig({ SIGNET_LDAP_ALLOW_PLAIN: 'true' }).directory.ldapAllowPlain).toBe(true);
  });

  it.each(['-1', 'hourly'])('refuses SIGNET_LDAP_SYNC_INTERVAL_MS=%s, naming the variable', (value) => {
    expect(() => loadConfig({ SIGNET_LDAP_SYNC_INTERVAL_MS: value })).toThrow(/SIGNET_LDAP_SYNC_INTERVAL_MS/);
  });
});
