import type { Scenario } from '../lib/scenario';
import { SignetSystem, type Answer, type IssuedToken, type SystemUnderTest } from '../lib/systems';

/** Presentations in flight at most (sockets from one load generator); the rest wait their turn. */
const MAX_IN_FLIGHT = 512;
/** Over how long the presentations are due: "within a few seconds". */
const STORM_MS = 3000;
/** One token in REUSE_EVERY is presented twice. */
const REUSE_EVERY = 100;

type Kind = 'fresh' | 'race' | 'replay';

interface Presentation {
  token: IssuedToken;
  kind: Kind;
}

const REUSED = 'refresh_token_reused';
const codeOf = (a: Answer): unknown => a.body?.['code'];

/**
 * A fleet refreshing at once: `mode.stormTokens` refresh tokens presented
 * within a few seconds. One in a hundred is presented twice: half of those as
 * two concurrent requests (of which exactly one may win), half again after
 * its first answer (a replay). Every reuse must be answered 401
 * refresh_token_reused and must revoke the family: the winner's new refresh
 * token must then be refused.
 *
 *  - answered: % of presentations with a definite answer (200, or the 401 a
 *    reuse deserves); a 429, a 5xx or a dropped connection is not one.
 *  - wrongly_refused: tokens presented once (or first) that did not get 200.
 *  - reuse_missed: reuses not detected (both copies 200, no refresh_token_reused,
 *    or the family's new token still working).
 *  - storm_s: from the first presentation due to the last answer.
 */
export const scenario: Scenario = {
  name: 'refresh_storm',
  metrics: [
    { metric: 'answered', unit: '%', better: 'higher' },
    { metric: 'wrongly_refused', unit: 'count', better: 'lower' },
    { metric: 'reuse_missed', unit: 'count', better: 'lower' },
    { metric: 'storm_s', unit: 's', better: 'lower' },
  ],
  applies: (system: SystemUnderTest) => system instanceof SignetSystem,
  run: async ({ mode, system, round }) => {
    const signet = system as SignetSystem;
    const n = mode.stormTokens;
    const tokens: IssuedToken[] = new Array<IssuedToken>(n);
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < n) {
          const i = next++;
          tokens[i] = await signet.issue(`bench_storm_${round}_${i}`);
        }
      }),
    );
    const reuseEvery = Math.min(REUSE_EVERY, Math.max(2, Math.floor(n / 4)));
    const presentations: Presentation[] = tokens.map((token, i) => ({
      token,
      kind: i % reuseEvery !== 0 ? 'fresh' : (i / reuseEvery) % 2 === 0 ? 'race' : 'replay',
    }));
    // A race is the same token twice, next to each other in the storm.
    const schedule: Presentation[] = presentations.flatMap((p) => (p.kind === 'race' ? [p, p] : [p]));

    const answers = new Map<IssuedToken, Answer[]>();
    const record = (token: IssuedToken, a: Answer): void => {
      const list = answers.get(token) ?? [];
      list.push(a);
      answers.set(token, list);
    };
    const present = async (p: Presentation): Promise<void> => {
      const a = await signet
        .post('/v1/tokens/refresh', { refresh_token: p.token.refresh_token }, null)
        .catch((err: unknown): Answer => ({ status: 0, body: { error: String(err) } }));
      record(p.token, a);
      if (p.kind === 'replay') {
        record(
          p.token,
          await signet.post('/v1/tokens/refresh', { refresh_token: p.token.refresh_token }, null).catch((): Answer => ({ status: 0, body: null })),
        );
      }
    };

    let inFlight = 0;
    const waiters: (() => void)[] = [];
    const pending: Promise<void>[] = [];
    const interval = STORM_MS / schedule.length;
    const t0 = performance.now();
    for (let i = 0; i < schedule.length; i++) {
      const ahead = t0 + i * interval - performance.now();
      if (ahead > 1) await new Promise((r) => setTimeout(r, ahead));
      while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => waiters.push(r));
      inFlight++;
      pending.push(
        present(schedule[i]).finally(() => {
          inFlight--;
          waiters.shift()?.();
        }),
      );
    }
    await Promise.all(pending);
    const stormS = (performance.now() - t0) / 1000;

    let definite = 0;
    let requests = 0;
    let wronglyRefused = 0;
    let reuseMissed = 0;
    const winners: string[] = [];
    for (const p of presentations) {
      const got = answers.get(p.token) ?? [];
      const ok = got.filter((a) => a.status === 200);
      const reused = got.filter((a) => a.status === 401 && codeOf(a) === REUSED);
      definite += ok.length + reused.length;
      requests += got.length;
      if (p.kind === 'fresh') {
        if (ok.length !== 1) wronglyRefused++;
        continue;
      }
      // Twice presented: one 200 (the first to lock it) and one reuse. No 200 at all is a wrongful refusal.
      if (ok.length === 0) wronglyRefused++;
      if (ok.length > 1 || reused.length !== 1) reuseMissed++;
      for (const a of ok) winners.push(a.body!['refresh_token'] as string);
    }
    // The family of a reused token is revoked: the new refresh token its winner got no longer works.
    for (const rt of winners) {
      const a = await signet.post('/v1/tokens/refresh', { refresh_token: rt }, null);
      if (a.status !== 401) reuseMissed++;
    }
    return { answered: (100 * definite) / requests, wrongly_refused: wronglyRefused, reuse_missed: reuseMissed, storm_s: stormS };
  },
};
