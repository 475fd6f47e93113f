import { credentialScenario } from './credentials';

/**
 * `POST /v1/tokens` as a customer backend calls it: the API key's verdict is
 * cached by the key service (bcrypt once per key per cache period), so this
 * measures issuing itself: validation, signing and the durable insert.
 */
export const scenario = credentialScenario('token_issue', async (signet) => async (i) => {
  await signet.issue(`bench_ti_${i % 1000}`);
});
