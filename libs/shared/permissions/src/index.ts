export * from './permission-set';
export * from './placeholders';
export * from './topic';
export * from './coverage';
