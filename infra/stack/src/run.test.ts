import { describe, expect, it } from 'vitest';
import { profileUrls } from './profiles.ts';
import { profileEnvironment } from './run.ts';

describe('profileEnvironment', () => {
  it("gives services the profile's URLs and settings, and lets the caller's environment win", () => {
    const env = profileEnvironment('dev', { REDIS_URL: 'redis://elsewhere:6379' });
    expect(env['EVENTSTORE_URL']).toBe(profileUrls('dev').eventStoreUrl);
    expect(env['REDIS_URL']).toBe('redis://elsewhere:6379');
    expect(env['MEDIA_DIR']).toMatch(/\.kiln\/dev\/media$/);
    expect(env['PAYMENT_WEBHOOK_SECRET']).toMatch(/^whsec_/);
  });
});
