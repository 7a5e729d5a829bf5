import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, resolvePaths } from './paths.ts';
import { testEnv } from './testing.ts';

describe('paths', () => {
  it('finds the repository root from the package location', () => {
    const rootPackage = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string };
    expect(rootPackage.name).toBe('kiln');
  });

  it('keeps data and tools in the repository by default', () => {
    expect(resolvePaths({}, {})).toEqual({
      dataRoot: join(repoRoot, '.kiln'),
      toolsDir: join(repoRoot, '.tools'),
    });
  });

  it('lets KILN_DATA_DIR and KILN_TOOLS_DIR override, and options override both', () => {
    const env = { KILN_DATA_DIR: '/tmp/data', KILN_TOOLS_DIR: '/tmp/tools' };
    expect(resolvePaths({}, env)).toEqual({ dataRoot: '/tmp/data', toolsDir: '/tmp/tools' });
    expect(resolvePaths({ dataDir: '/srv/data' }, env)).toEqual({
      dataRoot: '/srv/data',
      toolsDir: '/tmp/tools',
    });
  });
});

describe('testEnv', () => {
  it('uses the URLs from the environment when set', () => {
    const env = { EVENTSTORE_URL: 'esdb://db:2113', MONGO_URL: 'mongodb://m/', REDIS_URL: 'redis://r' };
    expect(testEnv(env)).toEqual({
      eventStoreUrl: 'esdb://db:2113',
      mongoUrl: 'mongodb://m/',
      redisUrl: 'redis://r',
    });
  });

  it("falls back to the test profile's URLs", () => {
    expect(testEnv({ REDIS_URL: '' })).toEqual({
      eventStoreUrl: 'postgres://postgres@127.0.0.1:54330/kiln',
      mongoUrl: 'mongodb://127.0.0.1:27037/',
      redisUrl: 'redis://127.0.0.1:63800',
    });
  });
});
