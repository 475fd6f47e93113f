import { credentialScenario, MAX_IN_FLIGHT } from './credentials';

/**
 * `POST /v1/tokens/refresh`: devices rotating their refresh tokens. Each
 * call takes an idle refresh chain (a user's current `rt_`), refreshes it and
 * puts the new `rt_` back, so no token is ever presented twice.
 */
export const scenario = credentialScenario('token_refresh', async (signet) => {
  const idle: string[] = [];
  for (let i = 0; i < MAX_IN_FLIGHT; i += 8) {
    const batch = await Promise.all(Array.from({ length: 8 }, (_, j) => signet.issue(`bench_tr_${i + j}`)));
    idle.push(...batch.map((t) => t.refresh_token));
  }
  return async () => {
    const current = idle.pop();
    if (current === undefined) throw new Error('token_refresh: more requests in flight than refresh chains');
    const next = await signet.refresh(current);
    idle.push(next.refresh_token);
  };
});
