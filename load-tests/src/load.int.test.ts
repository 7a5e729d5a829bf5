import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadModels } from '@kiln/query-service/read-models';
import { testEnv } from '@kiln/stack/testing';
import { scenarioNames } from '#k6/lib/profiles.ts';
import { startKiln, type KilnTarget } from '#src/kiln/startKiln.ts';
import type { RunResult } from '#src/results/runResult.ts';
import { runLoad } from '#src/runLoad.ts';

/** The environment without a deployment named in it: the run starts a Kiln of its own. */
const {
  KILN_COMMAND_URL: _c,
  KILN_QUERY_URL: _q,
  KILN_HUB_URL: _h,
  KILN_ADMIN_TOKEN: _a,
  ...localEnv
} = process.env;

const folders: string[] = [];
const resultsFolder = async () => {
  const folder = await mkdtemp(join(tmpdir(), 'kiln-load-results-'));
  folders.push(folder);
  return folder;
};
afterAll(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true }))));

const failing = (result: RunResult) =>
  result.scenarios.flatMap(({ scenario, thresholds }) =>
    thresholds
      .filter((threshold) => !threshold.ok)
      .map(({ metric, expression }) => `${scenario}: ${metric} ${expression}`),
  );
const metric = (result: RunResult, scenario: string, name: string) =>
  result.scenarios.find((each) => each.scenario === scenario)?.metrics[name];

describe('npm run load, smoke-sized', () => {
  it('runs every scenario against a Kiln of its own, holds every threshold and keeps the results', async () => {
    const resultsDir = await resultsFolder();
    const result = await runLoad({
      scenarios: [...scenarioNames],
      profile: 'smoke',
      resultsDir,
      env: localEnv,
    });

    expect(failing(result)).toEqual([]);
    expect(result.scenarios.map(({ scenario, exitCode }) => [scenario, exitCode])).toEqual(
      scenarioNames.map((scenario) => [scenario, 0]),
    );
    expect(result.passed).toBe(true);
    // Not vacuous: each scenario did its work, and its (correctness) thresholds were there to judge it.
    expect(result.scenarios.every(({ thresholds }) => thresholds.length >= 5)).toBe(true);
    expect(metric(result, 'commands', 'http_reqs')?.['count']).toBeGreaterThan(5);
    expect(metric(result, 'commands', 'expected_refusals{status:429}')?.['count']).toBeGreaterThan(0);
    expect(metric(result, 'fanout', 'events_received')?.['count']).toBeGreaterThan(20);
    expect(metric(result, 'fanout', 'delivery_latency')?.['count']).toBeGreaterThan(5);
    expect(metric(result, 'replay', 'replay_catchups')?.['count']).toBe(12);
    expect(metric(result, 'replay', 'hub_rss_bytes')?.['max']).toBeGreaterThan(10 * 2 ** 20);
    expect(metric(result, 'audit', 'billing_audited_accounts')?.['count']).toBeGreaterThan(20);

    const kept = JSON.parse(await readFile(join(resultsDir, 'summary.json'), 'utf8')) as RunResult;
    expect(kept.scenarios.map(({ scenario, passed }) => [scenario, passed])).toEqual(
      scenarioNames.map((scenario) => [scenario, true]),
    );
    const report = await readFile(join(resultsDir, 'report.html'), 'utf8');
    expect(report).toContain('uPlot');
    expect(report).not.toMatch(/<script[^>]+src=/);
    for (const scenario of scenarioNames) {
      expect(report).toContain(`PASS · ${scenario}`);
      expect(existsSync(join(resultsDir, `${scenario}.samples.json.gz`))).toBe(true);
    }
  });

  describe('fails when what a threshold guards breaks', () => {
    let kiln: KilnTarget;
    let env: NodeJS.ProcessEnv;
    beforeAll(async () => {
      kiln = await startKiln(await resultsFolder());
      env = {
        ...localEnv,
        KILN_COMMAND_URL: kiln.commandUrl,
        KILN_QUERY_URL: kiln.queryUrl,
        KILN_HUB_URL: kiln.hubUrl,
        KILN_ADMIN_TOKEN: kiln.adminToken,
      };
    });
    afterAll(() => kiln?.stop());

    it('a watcher that misses one event fails the fan-out, and the run', async () => {
      const result = await runLoad({
        scenarios: ['fanout'],
        profile: 'smoke',
        resultsDir: await resultsFolder(),
        env,
        k6Env: { KILN_FAULT: 'drop-event' },
      });
      expect(failing(result)).toEqual(['fanout: fanout_missed count==0']);
      expect(result.scenarios[0]?.exitCode).toBe(99);
      expect(result.passed).toBe(false);
    });

    it('a balance the projection got wrong fails the billing audit', async () => {
      const me = await fetch(`${kiln.commandUrl}/v1/accounts/me`, {
        headers: { authorization: `Bearer ${kiln.adminToken}` },
      });
      const { accountId } = ((await me.json()) as { data: { accountId: string } }).data;
      const mongo = await new MongoClient(testEnv().mongoUrl).connect();
      try {
        const balances = await createReadModels(mongo.db(kiln.placement.mongoDatabase)).collection(
          'balances',
        );
        const corrupted = await balances.updateOne({ _id: accountId }, { $inc: { available: 7 } });
        expect(corrupted.modifiedCount).toBe(1);
      } finally {
        await mongo.close();
      }
      const result = await runLoad({
        scenarios: ['audit'],
        profile: 'smoke',
        resultsDir: await resultsFolder(),
        env,
      });
      expect(failing(result)).toEqual(['audit: billing_audit_mismatches count==0']);
      expect(result.passed).toBe(false);
    });
  });
});
