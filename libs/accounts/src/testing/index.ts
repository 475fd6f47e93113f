export * from './in-memory-accounts.repository';
