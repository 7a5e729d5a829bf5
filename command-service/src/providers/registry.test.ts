import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findModel, type CatalogModel } from '@kiln/contracts/catalog';
import { startLocalProvider, type LocalProvider } from '#src/providers/local/server.ts';
import { buildProviderRegistry } from '#src/providers/registry.ts';

const local = findModel('kiln-local-image') as CatalogModel;
const replicate = findModel('flux-schnell') as CatalogModel;
const fal = findModel('flux-dev') as CatalogModel;

describe('the provider registry', () => {
  let dir: string;
  let provider: LocalProvider;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-registry-'));
    provider = await startLocalProvider({ outputDir: dir, delayMs: 30 });
  });
  afterAll(async () => {
    await provider.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves each model by its catalog provider, only for configured providers', () => {
    const registry = buildProviderRegistry({
      local: { baseUrl: provider.url },
      fal: { key: 'fal-key', baseUrl: 'http://127.0.0.1:1' },
    });
    expect(registry.names).toEqual(['local', 'fal']);
    expect(registry.adapterFor(local)?.name).toBe('local');
    expect(registry.forModel(fal)?.name).toBe('fal');
    expect(registry.adapterFor(replicate)).toBeUndefined();
    expect(registry.byName('constructor')).toBeUndefined();
  });

  it('gives adapters that work end to end, with the resilience settings given', async () => {
    const registry = buildProviderRegistry({
      local: { baseUrl: provider.url },
      resilience: { timeoutMs: 2_000 },
    });
    const adapter = registry.adapterFor(local);
    if (!adapter) throw new Error('no local adapter');
    expect(adapter.idempotentCreates).toBe(true);
    const request = {
      kind: 'image' as const,
      modelId: local.id,
      prompt: 'a bowl',
      width: 64,
      height: 64,
      count: 1,
    };
    const job = {
      jobId: 'job-r',
      attempt: 1,
      idempotencyKey: 'job-r/attempt-1',
      model: local,
      request,
      inputs: [],
    };
    const { providerJobId } = await adapter.createImageJob(job);
    expect((await adapter.createImageJob(job)).providerJobId).toBe(providerJobId);
    expect(['queued', 'running', 'succeeded']).toContain(
      (await adapter.getStatus(providerJobId, local)).state,
    );
  });
});
