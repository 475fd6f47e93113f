export * from './fixtures';
export * from './in-memory-org-settings.repository';
export * from './in-memory-token.repository';
