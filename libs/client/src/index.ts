export {
  AUTH_METHOD,
  connectSignet,
  REFRESH_TOPIC,
  RESULT_TOPIC,
  SignetClient,
  type Clock,
  type CredentialsReason,
  type RefreshedEvent,
  type RefreshMethod,
  type SessionEndEvent,
  type SignetClientEvents,
  type SignetClientOptions,
  type SignetClientState,
  type SignetCredentials,
} from './signet-client';
export { SignetClientError, type SignetErrorCode } from './errors';
export { DEFAULT_POLICY, refreshDelay, retryDelay, parseExpiry, resolvePolicy, type RefreshPolicy } from './schedule';
