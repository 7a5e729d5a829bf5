import { describe, expect, it } from 'vitest';
import { currentCorrelationId, currentLogger, runWithContext } from '#src/logger.ts';
import { captureLogs } from '#src/testing/capturedLogs.ts';

describe('createLogger', () => {
  it('writes JSON lines with the service name and an ISO time', () => {
    const { logger, lines } = captureLogs('command-service');
    logger.info({ jobId: 'j1' }, 'job requested');
    expect(lines[0]).toMatchObject({
      service: 'command-service',
      jobId: 'j1',
      msg: 'job requested',
      level: 30,
    });
    expect(new Date(lines[0]?.['time'] as string).toISOString()).toBe(lines[0]?.['time']);
  });

  it('redacts secrets in request headers and under secret keys at any depth', () => {
    const { logger, raw } = captureLogs();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer t0ken-a', cookie: 'sid=c00kie-b', accept: 'text/html' } },
        res: { headers: { 'set-cookie': 'sid=c00kie-c' } },
        password: 'hunter2-d',
        user: { email: 'a@b.c', passwordHash: 'scrypt$hash-e', session: { sessionToken: 'sess-f' } },
        provider: { auth: { token: 'tok-g', secret: 'sec-h' } },
        calls: [{ request: { headers: { authorization: 'Bearer t0ken-i' } } }],
      },
      'everything',
    );
    const line = raw.join('');
    for (const secret of [
      't0ken-a',
      'c00kie-b',
      'c00kie-c',
      'hunter2-d',
      'hash-e',
      'sess-f',
      'tok-g',
      'sec-h',
      't0ken-i',
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain('[Redacted]');
    expect(line).toContain('text/html');
    expect(line).toContain('a@b.c');
  });

  it('redacts secrets bound to a child logger', () => {
    const { logger, raw } = captureLogs();
    logger.child({ token: 'child-secret' }).info('hello');
    expect(raw.join('')).not.toContain('child-secret');
  });
});

describe('request context', () => {
  it('gives the context logger and correlation id inside, across awaits, and nothing outside', async () => {
    const { logger: root } = captureLogs();
    const { logger, lines } = captureLogs();
    const child = logger.child({ correlationId: 'c-1' });
    const seen = await runWithContext({ correlationId: 'c-1', logger: child }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      currentLogger(root).info('inside');
      return currentCorrelationId();
    });
    expect(seen).toBe('c-1');
    expect(lines).toMatchObject([{ msg: 'inside', correlationId: 'c-1' }]);
    expect(currentCorrelationId()).toBeUndefined();
    expect(currentLogger(root)).toBe(root);
  });
});
