export * from './account';
export * from './accounts.module';
export * from './accounts.repository';
export * from './errors';
export * from './options';
export { hashPassword, verifyPassword } from './password';
export {
  AuthorizationServer,
  CLI_CLIENT_ID,
  CLI_REDIRECT_URI,
  DASHBOARD_CALLBACK_PATH,
  DASHBOARD_CLIENT_ID,
  DEVICE_CODE_GRANT,
  SESSION_SCOPES,
} from './sign-in/authorization-server';
export { bootstrapWithSignupCode, SignupCodeService, signupCodeBanner } from './usecases/bootstrap/signup-code.service';
export { SignUpUseCase } from './usecases/sign-up/sign-up.usecase';
export { SESSION_STRATEGY, SessionGuard, SessionStrategy } from './guards/session.strategy';
export { CurrentSession } from './http/accounts.controller';
