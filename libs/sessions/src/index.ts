export * from './errors';
export * from './http/dto';
export * from './http/sessions.controller';
export * from './session-directory';
export * from './sessions.module';
export * from './usecases/kick/kick.usecase';
export * from './usecases/list/list.usecase';
