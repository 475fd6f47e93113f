export * from './browser-policy';
export * from './dashboard.module';
export * from './errors';
export * from './options';
