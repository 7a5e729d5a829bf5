import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliRunner.ts';
import { silentLogger } from './log.ts';
import { run } from './process.ts';
import { profilePorts, profileUrls } from './profiles.ts';
import { install, status } from './stack.ts';
import { ensureStack } from './testing.ts';

// The `test` profile that every package's tests share: brought up if it is not (as their globalSetup
// does), only ever looked at here, never taken down.
const profile = 'test';
const ports = profilePorts(profile);

beforeAll(async () => {
  await ensureStack(profile, { log: silentLogger });
}, 900_000);

describe('kiln-stack against the running test stack', () => {
  it('status prints where each server listens, with its pid, and exits 0', async () => {
    const result = await runCli(['status', '--profile', profile]);
    expect(result.code, result.output).toBe(0);
    const pids = Object.fromEntries(
      (await status({ profile })).map((service) => [service.name, service.pid]),
    );
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      `# postgres running on 127.0.0.1:${ports.postgres} (pid ${pids['postgres']})`,
      `# redis    running on 127.0.0.1:${ports.redis} (pid ${pids['redis']})`,
      `# ferretdb running on 127.0.0.1:${ports.ferretdb} (pid ${pids['ferretdb']})`,
    ]);
  });

  it('env prints the URLs as sourceable lines', async () => {
    const result = await runCli(['env', '--profile', profile]);
    const urls = profileUrls(profile);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`EVENTSTORE_URL=${urls.eventStoreUrl}\n`);
    expect(result.stdout).toContain(`MONGO_URL=${urls.mongoUrl}\n`);
    expect(result.stdout).toContain(`REDIS_URL=${urls.redisUrl}\n`);
  });
});

describe('the tools built with Go', () => {
  it.each([
    ['k6', ['version'], /^k6 v1\.8\.1 /],
    ['ferretdb', ['--version'], /^version: v1\.24\.2$/m],
  ] as const)('%s is in the tools folder and runs', async (name, versionArgs, reports) => {
    const tools = await install({ log: silentLogger });
    expect(tools[name]).toMatch(new RegExp(`/bin/${name}$`));
    const result = await run(tools[name], versionArgs, { timeoutMs: 30_000 });
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toMatch(reports);
  });
});
