import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { testEnv } from '@kiln/stack/testing';
import { freePort, WEBHOOK_SECRET } from '#src/testing/harness.ts';

const workspace = fileURLToPath(new URL('..', import.meta.url));
const run = randomUUID().replaceAll('-', '').slice(0, 10);
const schemas = {
  EVENTSTORE_SCHEMA: `es_main_${run}`,
  IDENTITY_SCHEMA: `id_main_${run}`,
  COMMAND_SCHEMA: `cmd_main_${run}`,
};
const mediaDir = await mkdtemp(join(tmpdir(), 'kiln-main-'));
afterAll(async () => {
  const admin = new pg.Client({ connectionString: testEnv().eventStoreUrl });
  await admin.connect();
  for (const schema of Object.values(schemas)) await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
  await rm(mediaDir, { recursive: true, force: true });
});

/** A whole environment for main.ts, and nothing inherited from the test's own. */
const environment = (port: number): Record<string, string> => ({
  PATH: process.env['PATH'] ?? '',
  PORT: String(port),
  EVENTSTORE_URL: testEnv().eventStoreUrl,
  REDIS_URL: testEnv().redisUrl,
  REDIS_PREFIX: `main-${run}`,
  MEDIA_DIR: mediaDir,
  PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
  PROCESS_MANAGERS: 'false',
  LOG_LEVEL: 'info',
  ...schemas,
});

/** `node src/main.ts`, as `npm start` runs it, with what it prints kept. */
const startMain = (env: Record<string, string>) => {
  const child = spawn(process.execPath, ['src/main.ts'], { cwd: workspace, env });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  /** Resolves once a log line has `msg`; fails if the process ends first. */
  const logged = async (msg: string) => {
    for (;;) {
      const lines = output.stdout.split('\n').filter((line) => line.startsWith('{'));
      if (lines.some((line) => (JSON.parse(line) as { msg?: string }).msg === msg)) return;
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`ended (${child.exitCode ?? child.signalCode}) before "${msg}":\n${output.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { child, output, exited, logged };
};

describe('main.ts', () => {
  it('stops a wrong environment with one line naming each variable, no stack trace, and exit code 1', async () => {
    const env = environment(await freePort());
    delete env['REDIS_URL'];
    const main = startMain({ ...env, EVENTSTORE_URL: 'mysql://127.0.0.1/kiln' });
    expect(await main.exited).toBe(1);
    expect(main.output.stderr).toBe(
      'KILN config: EVENTSTORE_URL: a postgres:// or esdb:// URL; REDIS_URL: required\n',
    );
    expect(main.output.stdout).toBe('');
  });

  it('on SIGTERM answers the request in flight, then closes everything and exits 0', async () => {
    const port = await freePort();
    const main = startMain(environment(port));
    try {
      await main.logged('listening');
      // A sign-up whose body is held back: once the server says "100 Continue" it is handling the request.
      const body = JSON.stringify({
        email: `main-${run}@kiln.test`,
        password: `pw-${randomUUID()}`,
        displayName: 'Main',
      });
      const signUp = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/accounts/sign-up',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          expect: '100-continue',
        },
      });
      const answered = once(signUp, 'response').then(async ([response]) => {
        let text = '';
        for await (const chunk of response) text += String(chunk);
        return { status: response.statusCode as number, body: JSON.parse(text) as unknown };
      });
      await once(signUp, 'continue');

      main.child.kill('SIGTERM');
      await main.logged('shutting down');
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      signUp.end(body);

      const answer = await answered;
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(answer.body).toMatchObject({ ok: true, data: { user: { email: `main-${run}@kiln.test` } } });
      expect(await main.exited).toBe(0);
      await main.logged('closed the event store, the databases and Redis');
      await main.logged('shut down');
      expect(main.output.stdout).not.toContain('a shutdown hook failed');
      expect(main.output.stderr).toBe('');
    } finally {
      if (main.child.exitCode === null && main.child.signalCode === null) main.child.kill('SIGKILL');
    }
  });
});
