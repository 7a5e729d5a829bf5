import { describe, expect, it } from 'vitest';
import { cleanLogLine } from '#src/providers/clientText.ts';

describe('a provider log line as a client may read it', () => {
  it('keeps the words and the progress a person needs', () => {
    expect(cleanLogLine(' 50%|█████     | 2/4 [00:01<00:01, 1.9it/s]')).toBe(
      '50%|█████     | 2/4 [00:01<00:01, 1.9it/s]',
    );
    expect(cleanLogLine('Using seed: 1234')).toBe('Using seed: 1234');
    expect(cleanLogLine('Generating key frames at 12:30:45')).toBe('Generating key frames at 12:30:45');
    expect(cleanLogLine('std::vector grew')).toBe('std::vector grew');
    expect(cleanLogLine('   ')).toBeUndefined();
  });

  it('hides links, addresses and host names', () => {
    const cleaned = cleanLogLine(
      'fetching https://weights.example.com/flux?sig=abc from 10.2.3.4:9000, worker [fd00::1]:8080, ' +
        'cache gpu-7.cluster.internal and redis.prod.svc:6379, fallback ::ffff:192.168.1.9 and localhost',
    );
    for (const leak of [
      'weights.example',
      'sig=abc',
      '10.2.3.4',
      'fd00',
      'gpu-7',
      'redis.prod',
      '192.168',
      'localhost',
    ])
      expect(cleaned).not.toContain(leak);
    expect(cleaned).toContain('fetching [link] from [address]');
  });

  it('hides credentials and anything shaped like a key', () => {
    const token = 'r8_3f9c2b7d1e0a4c6b8d2f1e3a5c7b9d0e';
    const cleaned = cleanLogLine(
      `Authorization: Bearer ${token}; api_key=sk-live-123456 token: abcdef123 ` +
        'secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw Key stub-key-id:4b0e2c4e-5bd1-4f5e-9a37-2f8f8a0b1c2d',
    );
    for (const leak of [token, 'sk-live', 'abcdef123', 'whsec_', '4b0e2c4e-5bd1'])
      expect(cleaned).not.toContain(leak);
    expect(cleaned).toContain('Authorization=[redacted]');
    expect(cleaned).toContain('api_key=[redacted]');
  });

  it('keeps one short line without control characters', () => {
    expect(cleanLogLine('one\u0007 two\u001b three\u200b')).toBe('one  two  three');
    expect(cleanLogLine('word '.repeat(200))?.length).toBeLessThanOrEqual(300);
  });
});
