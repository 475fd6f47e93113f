import { credentialScenario } from './credentials';
import { exchangeCall } from './exchange';

/** `POST /v1/federation/exchange` with RS256 IdP tokens (a pinned public key). */
export const scenario = credentialScenario('exchange_rs256', (signet) => exchangeCall(signet, 'RS256'));
