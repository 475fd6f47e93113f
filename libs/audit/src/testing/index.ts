export * from './in-memory-audit.repository';
