import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '#src/config.ts';

const Config = z.strictObject({
  PORT: z.coerce
    .number()
    .int()
    .min(1, 'expected a number between 1 and 65535')
    .max(65535, 'expected a number between 1 and 65535'),
  DATABASE_URL: z.url(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn']).default('info'),
});

describe('parseConfig', () => {
  it('parses a good environment into a frozen, typed config and ignores other variables', () => {
    const result = parseConfig(Config.strip(), {
      PORT: '8080',
      DATABASE_URL: 'postgres://db/kiln',
      HOME: '/root',
    });
    expect(result).toEqual({
      ok: true,
      config: { PORT: 8080, DATABASE_URL: 'postgres://db/kiln', LOG_LEVEL: 'info' },
    });
    expect(result.ok && Object.isFrozen(result.config)).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    const result = parseConfig(Config.strip(), { PORT: '1', DATABASE_URL: 'postgres://db', LOG_LEVEL: '' });
    expect(result.ok && result.config.LOG_LEVEL).toBe('info');
  });

  it('names every wrong variable in one message', () => {
    const result = parseConfig(Config.strip(), { PORT: '70000', LOG_LEVEL: 'loud' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toMatch(/^KILN config: /);
    expect(result.message).toContain('PORT: expected a number between 1 and 65535');
    expect(result.message).toContain('DATABASE_URL: required');
    expect(result.message).toContain('LOG_LEVEL: ');
    expect(result.message.split('\n')).toHaveLength(1);
  });
});

describe('loadConfig', () => {
  const run = (env: Record<string, string>) =>
    spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { z } from 'zod';
         import { loadConfig } from '@kiln/service-kit/config';
         const config = loadConfig(z.object({ PORT: z.coerce.number().int().max(65535), DATABASE_URL: z.url() }));
         console.log(JSON.stringify(config));`,
      ],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: { PATH: process.env['PATH'] ?? '', ...env },
        encoding: 'utf8',
      },
    );

  it('returns the config when the environment is good', () => {
    const child = run({ PORT: '3000', DATABASE_URL: 'postgres://db/kiln' });
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ PORT: 3000, DATABASE_URL: 'postgres://db/kiln' });
  });

  it('prints one line naming the wrong variables, with no stack trace, and exits 1', () => {
    const child = run({ PORT: 'many' });
    expect(child.status).toBe(1);
    expect(child.stderr).toMatch(/^KILN config: PORT: .+; DATABASE_URL: required\n$/);
    expect(child.stdout).toBe('');
  });
});
