import type { Server } from 'socket.io';
import type { PresenceMessage } from '@kiln/contracts/realtime';
import type { Logger } from '@kiln/service-kit/logger';
import type { Presence } from '#src/presence/presence.ts';

const COALESCE_MS = 200;

/** The Socket.IO room of a session's watchers, on every instance. */
export const presenceRoomOf = (sessionId: string) => `session:${sessionId}`;

/**
 * Tells a session's room who is watching it, when that changed. Who watches changes in bursts (a whole
 * team opens a session at once), so an instance looks at most every COALESCE_MS per session. The list
 * goes to the room through the Redis adapter, reaching the watchers on every instance, and only from the
 * one instance that finds it changed first (the last list told is kept in Redis): a join or leave is told
 * by the instance it happened on, a dead instance's watchers expiring by whichever renews first.
 */
export const createPresenceAnnouncer = (deps: { io: Server; presence: Presence; logger: Logger }) => {
  const looking = new Set<string>();
  return (sessionId: string) => {
    if (looking.has(sessionId)) return;
    looking.add(sessionId);
    setTimeout(() => {
      looking.delete(sessionId);
      deps.presence
        .changed(sessionId)
        .then((watchers) => {
          if (watchers)
            deps.io
              .to(presenceRoomOf(sessionId))
              .emit('presence', { sessionId, watchers } satisfies PresenceMessage);
        })
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'presence could not be read'));
    }, COALESCE_MS);
  };
};
