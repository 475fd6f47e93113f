export * from './in-memory-accounts.repository';
export * from './in-memory-sso.repository';
export * from './in-memory-totp.repository';
