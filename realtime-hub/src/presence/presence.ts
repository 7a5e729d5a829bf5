import type { Redis } from 'ioredis';
import type { PresenceMessage } from '@kiln/contracts/realtime';

type Watcher = PresenceMessage['watchers'][number];
const SEPARATOR = '\u0000';

/**
 * Who is watching each session, across hub instances, in Redis: one sorted set per session whose members
 * are connections and whose scores are when they expire. Each instance renews its own connections; those
 * of an instance that died are not renewed and drop out after `ttlSeconds`.
 */
export const createPresence = (options: { redis: Redis; prefix: string; ttlSeconds: number }) => {
  const { redis, prefix } = options;
  const ttlMs = options.ttlSeconds * 1000;
  const key = (sessionId: string) => `${prefix}:presence:${sessionId}`;
  const toldKey = (sessionId: string) => `${prefix}:presence-told:${sessionId}`;
  const local = new Map<string, { sessionId: string; member: string }>();
  const memberOf = (connectionId: string, watcher: Watcher) =>
    [connectionId, watcher.userId, watcher.displayName].join(SEPARATOR);

  const watchers = async (sessionId: string): Promise<Watcher[]> => {
    await redis.zremrangebyscore(key(sessionId), '-inf', String(Date.now()));
    const members = await redis.zrange(key(sessionId), '0', '-1');
    const byUser = new Map<string, Watcher>();
    for (const member of members) {
      const [, userId = '', displayName = ''] = member.split(SEPARATOR);
      if (!byUser.has(userId)) byUser.set(userId, { userId, displayName });
    }
    return [...byUser.values()].sort((a, b) => a.userId.localeCompare(b.userId));
  };

  return {
    watchers,
    /**
     * The watchers of a session when they differ from the list last told (by any instance), else
     * undefined. The list told is swapped atomically in Redis, so of two instances that look at the same
     * change, one tells it.
     */
    async changed(sessionId: string): Promise<Watcher[] | undefined> {
      const now = await watchers(sessionId);
      const said = JSON.stringify(now);
      const before = await redis.set(toldKey(sessionId), said, 'PX', ttlMs * 2, 'GET');
      return before === said ? undefined : now;
    },
    async join(sessionId: string, connectionId: string, watcher: Watcher) {
      const member = memberOf(connectionId, watcher);
      local.set(`${sessionId}${SEPARATOR}${connectionId}`, { sessionId, member });
      await redis.zadd(key(sessionId), Date.now() + ttlMs, member);
      await redis.pexpire(key(sessionId), ttlMs * 2);
    },
    async leave(sessionId: string, connectionId: string) {
      const entry = local.get(`${sessionId}${SEPARATOR}${connectionId}`);
      if (!entry) return;
      local.delete(`${sessionId}${SEPARATOR}${connectionId}`);
      await redis.zrem(key(sessionId), entry.member);
    },
    /** Renews this instance's connections, one command per session; returns the sessions it has watchers in. */
    async renew(): Promise<string[]> {
      const expiresAt = Date.now() + ttlMs;
      const bySession = new Map<string, Array<number | string>>();
      for (const { sessionId, member } of local.values()) {
        const scored = bySession.get(sessionId) ?? [];
        scored.push(expiresAt, member);
        bySession.set(sessionId, scored);
      }
      await Promise.all(
        [...bySession].map(async ([sessionId, scored]) => {
          await redis.zadd(key(sessionId), ...scored);
          await redis.pexpire(key(sessionId), ttlMs * 2);
        }),
      );
      return [...bySession.keys()];
    },
  };
};

export type Presence = ReturnType<typeof createPresence>;
