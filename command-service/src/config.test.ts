import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MAX_INPUT_FILES } from '@kiln/contracts/job/request';
import { parseConfig } from '@kiln/service-kit/config';
import { CommandServiceConfig } from '#src/config.ts';
import { MAX_FILE_BYTES } from '#src/http/routes/uploads.ts';

/** Only what has no default. */
const required = {
  EVENTSTORE_URL: 'postgres://kiln@127.0.0.1:5432/kiln',
  REDIS_URL: 'redis://127.0.0.1:6379',
  MEDIA_DIR: '/var/lib/kiln/media',
  PAYMENT_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
};

describe('command service config', () => {
  it("defaults to the design's limits", () => {
    const result = parseConfig(CommandServiceConfig, required);
    if (!result.ok) throw new Error(result.message);
    expect(result.config).toMatchObject({
      API_REQUESTS_PER_MINUTE: 100, // per user and per IP
      JOB_CREATIONS_PER_MINUTE: 5, // per user
      UPLOADS_PER_MINUTE: 20,
      MAX_ACTIVE_JOBS: 5,
    });
    expect(MAX_INPUT_FILES).toBe(14);
    expect(MAX_FILE_BYTES).toBe(10 * 1024 * 1024);
  });

  it('names each wrong variable in one line', () => {
    const result = parseConfig(CommandServiceConfig, {
      ...required,
      EVENTSTORE_URL: 'mysql://somewhere',
      JOB_CREATIONS_PER_MINUTE: '0',
    });
    expect(result).toEqual({ ok: false, message: expect.stringMatching(/^KILN config: .*/) });
    const message = result.ok ? '' : result.message;
    expect(message).toContain('EVENTSTORE_URL: a postgres:// or esdb:// URL');
    expect(message).toContain('JOB_CREATIONS_PER_MINUTE');
    expect(message).not.toContain('\n');
  });

  it('needs DATABASE_URL when the event store is not PostgreSQL', () => {
    const result = parseConfig(CommandServiceConfig, {
      ...required,
      EVENTSTORE_URL: 'esdb://127.0.0.1:2113',
    });
    expect(result).toEqual({
      ok: false,
      message: 'KILN config: DATABASE_URL: required when EVENTSTORE_URL is not PostgreSQL',
    });
  });

  it("lists every variable in the README's environment table", async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('\nEnvironment'));
    const documented = new Set([...table.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map(([, name]) => name));
    expect(Object.keys(CommandServiceConfig.shape).filter((name) => !documented.has(name))).toEqual([]);
  });
});
