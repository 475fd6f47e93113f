export * from './in-memory-api-keys.repository';
