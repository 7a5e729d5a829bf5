import { describe, expect, it } from 'vitest';
import { openEventStore } from '#src/open.ts';

describe('openEventStore', () => {
  it('refuses a URL of another scheme, naming the accepted ones and not echoing the URL', async () => {
    const opening = openEventStore('mysql://kiln:s3cret@db.example:3306/kiln');
    await expect(opening).rejects.toThrow(/esdb:\/\/, esdb\+discover:\/\/, postgres:\/\/ or postgresql:\/\//);
    await expect(opening).rejects.toThrow(/mysql:\/\/ is not one of them/);
    await expect(opening).rejects.not.toThrow(/s3cret/);
  });

  it('refuses a string with no scheme at all', async () => {
    await expect(openEventStore('localhost:2113')).rejects.toThrow(/has no scheme/);
    await expect(openEventStore('')).rejects.toThrow(/has no scheme/);
  });

  it('opens EventStoreDB for esdb:// without connecting until it is used', async () => {
    const store = await openEventStore('esdb://127.0.0.1:1?tls=false');
    expect(typeof store.subscribeToAll).toBe('function');
    await store.close();
  });
});
