export * from './context';
export * from './edge';
export * from './main';
export * from './processes';
export * from './service';
export * from './token-service';
export * from './api-key-service';
