import { describe, expect, it } from 'vitest';
import { EventRejected, type KilnEvent } from '@kiln/contracts/events';
import { createEsdbEventStore } from '#src/esdb/esdbEventStore.ts';
import { progressed } from '#src/testing/events.ts';

/** Nothing listens on port 1: the real client fails fast with its own errors, and no server is needed. */
const unreachable = 'esdb://127.0.0.1:1?tls=false';

describe('the EventStoreDB store, with no server to reach', () => {
  it('refuses an empty append and an invalid event before sending anything', async () => {
    const store = await createEsdbEventStore<KilnEvent>({ connectionString: unreachable });
    await expect(store.appendToStream('job-a', [])).rejects.toBeInstanceOf(RangeError);
    const bad = {
      ...progressed('a', 0.5),
      data: { jobId: 'a', step: 'x', progress: 7 },
    } as unknown as KilnEvent;
    await expect(store.appendToStream('job-a', [bad])).rejects.toBeInstanceOf(EventRejected);
    await store.close();
  });

  it('fails a read with the client error, and keeps a subscription trying until it is closed', async () => {
    const store = await createEsdbEventStore<KilnEvent>({ connectionString: unreachable });
    await expect(store.readStream('job-a')).rejects.toMatchObject({ type: 'unavailable' });
    const subscription = store.subscribeToAll();
    const consumed = (async () => {
      let count = 0;
      for await (const _event of subscription) count += 1;
      return count;
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await store.close();
    await expect(consumed).resolves.toBe(0);
  });
});

describe('opening the EventStoreDB store', () => {
  it('rejects a connection string the client cannot parse', async () => {
    await expect(createEsdbEventStore({ connectionString: 'esdb://' })).rejects.toThrow();
  });
});
