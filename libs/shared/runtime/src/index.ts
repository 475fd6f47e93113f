export * from './context';
export * from './edge';
export * from './main';
export * from './platform';
export * from './process';
export * from './service';
