import { describe, expect, it } from 'vitest';
import {
  isApiTokenShaped,
  isSessionTokenShaped,
  newApiToken,
  newSessionToken,
  tokenHash,
} from '#src/secretToken.ts';

describe('secret tokens', () => {
  it('are 32 random bytes in base64url; API tokens start with kiln_', () => {
    const session = newSessionToken();
    const api = newApiToken();
    expect(session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(session, 'base64url')).toHaveLength(32);
    expect(api).toMatch(/^kiln_[A-Za-z0-9_-]{43}$/);
    expect(isSessionTokenShaped(session)).toBe(true);
    expect(isApiTokenShaped(api)).toBe(true);
    expect(isApiTokenShaped(session)).toBe(false);
    expect(isSessionTokenShaped(api)).toBe(false);
  });

  it('never repeat', () => {
    const seen = new Set(Array.from({ length: 1000 }, newSessionToken));
    expect(seen.size).toBe(1000);
  });

  it('are kept as their SHA-256', () => {
    const token = newApiToken();
    const hash = tokenHash(token);
    expect(hash).toHaveLength(32);
    expect(tokenHash(token).equals(hash)).toBe(true);
    expect(hash.toString('utf8')).not.toContain(token);
  });

  it.each(['', 'kiln_', 'kiln_short', 'x'.repeat(43) + '=', 'kiln_' + 'a'.repeat(42) + '!'])(
    'refuse a malformed token %j',
    (token) => {
      expect(isApiTokenShaped(token)).toBe(false);
    },
  );
});
