import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findModel, type CatalogModel } from '@kiln/contracts/catalog';
import { isPassableLink, originOf, withCheckedOutputLinks } from '#src/providers/outputLinks.ts';
import type { ProviderAdapter, ProviderStatus } from '#src/providers/port.ts';
import { createReplicateAdapter } from '#src/providers/replicate/adapter.ts';
import { startReplicateStub, type ReplicateStub } from '#src/providers/replicate/stub.ts';

const rules = { trustedOrigins: ['http://127.0.0.1:4190'], secrets: ['r8_secret_token_123'] };

describe('which output links Kiln passes on', () => {
  it('passes public https links, and any link on an origin configured for the provider', () => {
    expect(isPassableLink('https://replicate.delivery/xezq/abc/out-0.png', rules)).toBe(true);
    expect(isPassableLink('https://v3.fal.media/files/rabbit/x.png?download=1', rules)).toBe(true);
    expect(isPassableLink('https://8.8.8.8/x.png', rules)).toBe(true);
    expect(isPassableLink('http://127.0.0.1:4190/outputs/a.png', rules)).toBe(true);
  });

  it('refuses internal addresses, plain http elsewhere, credentials and other schemes', () => {
    for (const link of [
      'http://cdn.example.com/x.png',
      'https://127.0.0.1/x.png',
      'https://127.0.0.1:4191/x.png',
      'https://10.1.2.3/x.png',
      'https://172.20.0.5/x.png',
      'https://192.168.1.9/x.png',
      'https://169.254.169.254/latest/meta-data/iam',
      'https://100.100.1.1/x.png',
      'https://[::1]/x.png',
      'https://[fd00::5]/x.png',
      'https://[fe80::1]/x.png',
      'https://[::ffff:10.0.0.1]/x.png',
      'https://2130706433/x.png',
      'https://localhost/x.png',
      'https://files.localhost/x.png',
      'https://minio/x.png',
      'https://store.cluster.internal/x.png',
      'https://user:pass@cdn.example.com/x.png',
      'https://cdn.example.com/x.png?token=r8_secret_token_123',
      'ftp://cdn.example.com/x.png',
      'not a link',
    ])
      expect(isPassableLink(link, rules), link).toBe(false);
  });

  it('trusts only the origin of a configured base URL', () => {
    expect(originOf('http://127.0.0.1:4190/v1/')).toEqual(['http://127.0.0.1:4190']);
    expect(originOf(undefined)).toEqual([]);
  });
});

describe('an adapter held to the link rules, against the Replicate stub', () => {
  const model = findModel('flux-schnell') as CatalogModel;
  let stub: ReplicateStub;
  let checked: ProviderAdapter;
  beforeAll(async () => {
    stub = await startReplicateStub({ delayMs: 60 });
    checked = withCheckedOutputLinks(createReplicateAdapter({ token: stub.token, baseUrl: stub.url }), {
      trustedOrigins: originOf(stub.url),
      secrets: [stub.token],
    });
  });
  afterAll(() => stub.close());

  const finish = async (outputs?: string[]): Promise<ProviderStatus> => {
    if (outputs) stub.tuneNext({ outputs });
    const { providerJobId } = await checked.createImageJob({
      jobId: 'job-links',
      attempt: 1,
      idempotencyKey: 'job-links/attempt-1',
      model,
      request: { kind: 'image', modelId: model.id, prompt: 'a dune', width: 512, height: 512, count: 1 },
      inputs: [],
    });
    for (;;) {
      const status = await checked.getStatus(providerJobId, model);
      if (status.state !== 'queued' && status.state !== 'running') return status;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it("passes the stub's own links (its origin is configured)", async () => {
    expect(await finish()).toMatchObject({ state: 'succeeded', outputs: [{ contentType: 'image/png' }] });
  });

  it("fails the job, output_invalid, when the provider hands out a link into Kiln's network", async () => {
    expect(await finish(['http://169.254.169.254/latest/meta-data/out.png'])).toEqual({
      state: 'failed',
      code: 'output_invalid',
      retryable: false,
    });
    expect(await finish([`https://cdn.example.com/out.png?key=${stub.token}`])).toMatchObject({
      state: 'failed',
      code: 'output_invalid',
    });
  });
});
