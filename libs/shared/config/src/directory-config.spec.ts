import { loadConfig } from './config';

describe('directory config', () => {
  it('syncs LDAP every 15 minutes by default; 0 turns the schedule off', () => {
    expect(loadConfig({}).directory).toEqual({ ldapSyncIntervalMs: 900_000 });
    expect(loadConfig({ SIGNET_LDAP_SYNC_INTERVAL_MS: '0' }).directory).toEqual({ ldapSyncIntervalMs: 0 });
  });

  it.each(['-1', 'hourly'])('refuses SIGNET_LDAP_SYNC_INTERVAL_MS=%s, naming the variable', (value) => {
    expect(() => loadConfig({ SIGNET_LDAP_SYNC_INTERVAL_MS: value })).toThrow(/SIGNET_LDAP_SYNC_INTERVAL_MS/);
  });
});
