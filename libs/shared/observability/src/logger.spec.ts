import { createLogger } from './logger';
import { prettyLine } from './pretty';

function capture(format: 'json' | 'pretty') {
  const lines: string[] = [];
  const logger = createLogger({ name: 'test', level: 'debug', format, destination: { write: (l: string) => void lines.push(l) } });
  return { logger, lines };
}

describe('log formats', () => {
  it('json: one object a line, secrets redacted', () => {
    const { logger, lines } = capture('json');
    logger.child({ component: 'api' }).info({ token: 'tkn_secret', user: 'alice' }, 'issued');
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 30, service: 'test', component: 'api', user: 'alice', token: '[redacted]', msg: 'issued' });
  });

  it('pretty: time, level, component, message and fields on one line; secrets still redacted', () => {
    const { logger, lines } = capture('pretty');
    logger.child({ component: 'revocation-bus' }).warn({ count: 2, password: 'hunter2', note: 'two words' }, 'state rebuilt');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}\[revocation-bus\] state rebuilt {2}count=2 password=\[redacted\] note="two words"\n$/);
    expect(lines[0]).not.toContain('hunter2');
  });

  it('pretty: an error shows its message; its stack only at error level', () => {
    const { logger, lines } = capture('pretty');
    const err = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    logger.warn({ err }, 'retrying');
    logger.error({ err }, 'failed');
    expect(lines[0]).toMatch(/WARN {2}retrying {2}err="listen EADDRINUSE" code=EADDRINUSE\n$/);
    expect(lines[0].split('\n')).toHaveLength(2);
    expect(lines[1]).toMatch(/ERROR failed {2}err="listen EADDRINUSE" code=EADDRINUSE\n {4}at /);
  });

  it('pretty: a line that is not JSON passes through', () => {
    expect(prettyLine('plain text')).toBe('plain text\n');
  });
});
