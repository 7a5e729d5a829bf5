import { LRUCache } from 'lru-cache';
import type { PublicUser } from '@kiln/contracts/accounts/http';

/**
 * Who a session or API token belongs to, remembered for a few seconds: a busy client would otherwise cost
 * a database read per request. Signing out or revoking on this instance forgets at once; another
 * instance may still accept the credential for at most `ttlMs` (docs/decisions/005).
 */
export const createLookupCache = (ttlMs: number) => {
  const cache = new LRUCache<string, { user: PublicUser | null }>({ max: 50_000, ttl: ttlMs });
  return {
    /** `lookup` may say until when its answer holds (a session's expiry); it is never remembered longer. */
    remembered:
      (lookup: (token: string) => Promise<{ user: PublicUser; validUntil?: number } | null>) =>
      async (token: string): Promise<PublicUser | null> => {
        const known = ttlMs > 0 ? cache.get(token) : undefined;
        if (known) return known.user;
        const found = await lookup(token);
        // Only hits are kept: an unknown token (a typo, a brute force) must not fill the cache.
        const ttl = Math.min(ttlMs, (found?.validUntil ?? Infinity) - Date.now());
        if (found && ttl > 0) cache.set(token, { user: found.user }, { ttl });
        return found?.user ?? null;
      },
    forget: (token: string) => void cache.delete(token),
    forgetUser: (userId: string) => {
      for (const [token, entry] of cache.entries()) if (entry.user?.id === userId) cache.delete(token);
    },
  };
};
