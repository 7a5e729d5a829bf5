import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { serve } from '#src/server.ts';
import { captureLogs } from '#src/testing/capturedLogs.ts';

/** Resolves when the server is handling a request to /slow (not a guess of how long that takes). */
const arrivals = () => {
  let arrived = () => {};
  const next = () => new Promise<void>((resolve) => (arrived = resolve));
  return { next, arrive: () => arrived() };
};

const slowApp = (delayMs: number, onAnswered: () => void = () => {}, onArrived: () => void = () => {}) => {
  const app = express();
  app.get('/slow', async (_req, res) => {
    onArrived();
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    res.json({ ok: true, data: 'done' });
    onAnswered();
  });
  app.get('/fast', (_req, res) => {
    res.json({ ok: true, data: 'fast' });
  });
  return app;
};

describe('serve', () => {
  it('listens on a free port when given 0', async () => {
    const { logger } = captureLogs();
    const serving = await serve(slowApp(0), { port: 0, logger });
    expect(serving.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${serving.url}/fast`)).json()).toEqual({ ok: true, data: 'fast' });
    await serving.close();
  });

  it('close() waits for an in-flight request, refuses new ones, then runs the hooks in order', async () => {
    const { logger } = captureLogs();
    const order: string[] = [];
    const slow = arrivals();
    const serving = await serve(
      slowApp(
        300,
        () => order.push('answered'),
        () => slow.arrive(),
      ),
      {
        port: 0,
        logger,
        onShutdown: [
          async () => {
            order.push('first');
            await Promise.reject(new Error('hook failed'));
          },
          () => Promise.resolve(void order.push('second')),
        ],
      },
    );
    await fetch(`${serving.url}/fast`); // leaves an idle keep-alive connection open
    const arrived = slow.next();
    const inFlight = fetch(`${serving.url}/slow`);
    await arrived;
    const started = Date.now();
    const closed = serving.close().then(() => order.push('closed'));
    expect(serving.close()).toBe(serving.close());
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(fetch(`${serving.url}/fast`)).rejects.toThrow();
    expect(order).toEqual([]);
    const response = await inFlight;
    expect(await response.json()).toEqual({ ok: true, data: 'done' });
    await closed;
    expect(order).toEqual(['answered', 'first', 'second', 'closed']);
    expect(Date.now() - started).toBeLessThan(1_000); // no wait for keep-alive timeouts
  });

  it('cuts requests still running at the shutdown deadline', async () => {
    const { logger, lines } = captureLogs();
    const slow = arrivals();
    const serving = await serve(
      slowApp(10_000, undefined, () => slow.arrive()),
      { port: 0, logger, shutdownTimeoutMs: 100 },
    );
    const arrived = slow.next();
    const inFlight = fetch(`${serving.url}/slow`);
    await arrived;
    const started = Date.now();
    await serving.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(inFlight).rejects.toThrow();
    expect(lines.some((line) => line.level === 40 && /deadline/.test(String(line.msg)))).toBe(true);
  });
});

describe('handleSignals', () => {
  it('on SIGTERM finishes the in-flight request and exits 0', async () => {
    const fixture = fileURLToPath(new URL('testing/signalFixture.ts', import.meta.url));
    const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [firstChunk] = (await once(child.stdout, 'data')) as [Buffer];
    const url = (JSON.parse(firstChunk.toString().split('\n')[0] ?? '') as { url: string }).url;
    const inFlight = fetch(`${url}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGTERM');
    const response = await inFlight;
    expect(await response.json()).toEqual({ ok: true, data: 'done' });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
