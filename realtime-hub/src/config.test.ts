import { describe, expect, it } from 'vitest';
import { RealtimeHubConfig } from '#src/config.ts';

const required = {
  EVENTSTORE_URL: 'postgres://kiln@127.0.0.1:5432/kiln',
  MONGO_URL: 'mongodb://127.0.0.1:27017/kiln',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

describe('the realtime hub’s configuration', () => {
  it('heartbeats every 15 s, bounds each client at 2 MiB unsent and keeps watchers 30 s by default', () => {
    const config = RealtimeHubConfig.parse(required);
    expect(config.HEARTBEAT_SECONDS).toBe(15);
    expect(config.MAX_PENDING_BYTES).toBe(2 * 1024 * 1024);
    expect(config.PRESENCE_TTL_SECONDS).toBe(30);
  });

  it('refuses a per-client bound below 16 KiB', () => {
    expect(RealtimeHubConfig.safeParse({ ...required, MAX_PENDING_BYTES: '1000' }).success).toBe(false);
  });
});
