import { DeadlineExceededError } from './deadline';
import { isDatabaseUnavailable } from './transactions';

/** Errors as node-postgres raises them, and as TypeORM wraps them (QueryFailedError.driverError). */
const pg = (message: string, code?: string): Error => Object.assign(new Error(message), code === undefined ? {} : { code });
const typeorm = (driverError: Error): Error => Object.assign(new Error(driverError.message), { driverError });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', pg('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset', typeorm(pg('read ECONNRESET', 'ECONNRESET'))],
    ['a connection that ended', pg('Connection terminated unexpectedly')],
    ['no answer in time (client side)', typeorm(pg('Query read timeout'))],
    ['no pooled connection in time', pg('timeout exceeded when trying to connect')],
    ['a connect that timed out', Object.assign(new Error('Connection terminated due to connection timeout'), { cause: pg('timeout expired') })],
    ['statement_timeout', typeorm(pg('canceling statement due to statement timeout', '57014'))],
    ['a server shutting down', pg('terminating connection due to administrator command', '57P01')],
    ['too many connections', pg('sorry, too many clients already', '53300')],
    ['idle_in_transaction_session_timeout', pg('terminating connection due to idle-in-transaction timeout', '25P03')],
    ['a connection exception', pg('connection failure', '08006')],
  ])('is true for %s', (_label, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation', typeorm(pg('duplicate key value violates unique constraint', '23505'))],
    ['a syntax error', pg('syntax error at or near "SELEC"', '42601')],
    ['a deadlock (retried by inTransaction, then a 500)', pg('deadlock detected', '40P01')],
    ['a deadline', new DeadlineExceededError()],
    ['an ordinary error', new Error('something else')],
    ['not an error', 'Connection terminated'],
  ])('is false for %s', (_label, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});
