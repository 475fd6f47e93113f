import { credentialScenario } from './credentials';
import { exchangeCall } from './exchange';

/** `POST /v1/federation/exchange` with HS256 IdP tokens (a shared secret). */
export const scenario = credentialScenario('exchange_hs256', (signet) => exchangeCall(signet, 'HS256'));
