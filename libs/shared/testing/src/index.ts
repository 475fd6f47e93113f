export * from './env';
export * from './logger';
export * from './redis';
export * from './tcp-proxy';
export * from './wait-for';
export * from './postgres';
export * from './tamper';
