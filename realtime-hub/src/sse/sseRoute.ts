import { Router, type Response } from 'express';
import type { Subscription } from 'rxjs';
import { z } from 'zod';
import { EntityId } from '@kiln/contracts/envelope';
import { ApiProblem } from '@kiln/contracts/http/problem';
import { Position } from '@kiln/contracts/position';
import type { Topic } from '@kiln/contracts/realtime';
import { requireUser, userOf } from '@kiln/identity/http';
import { currentLogger } from '@kiln/service-kit/logger';
import { parseWith } from '@kiln/service-kit/http';
import type { HubMetrics } from '#src/metrics.ts';
import { SubscriptionRefused } from '#src/topics/access.ts';
import { toDelivered } from '#src/topics/delivered.ts';
import {
  FellBehind,
  openSubscription,
  ResyncReason,
  type SubscriptionDeps,
} from '#src/topics/openSubscription.ts';

const StreamQuery = z
  .object({
    topic: z.enum(['job', 'session', 'account']),
    id: EntityId.optional(),
    after: Position.optional(),
  })
  .refine((query) => query.topic === 'account' || query.id !== undefined, {
    message: 'give the id of the job or session',
    path: ['id'],
  });

const topicOf = (query: z.infer<typeof StreamQuery>): Topic =>
  query.topic === 'job'
    ? { kind: 'job', jobId: query.id ?? '' }
    : query.topic === 'session'
      ? { kind: 'session', sessionId: query.id ?? '' }
      : { kind: 'account', ...(query.id ? { accountId: query.id } : {}) };

/** Resolves true once the stream holds fewer than `limit` unsent bytes, false on timeout or close. */
const roomToWrite = (res: Response, limit: number, timeoutMs: number) =>
  new Promise<boolean>((resolve) => {
    if (res.writableLength < limit) return resolve(true);
    const done = (answer: boolean) => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(answer);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });

/** One Server-Sent Events message of JSON text; `id` (a position) comes back as Last-Event-ID. */
const encodedFrame = (event: string, json: string, id?: string | null) =>
  `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${json}\n\n`;

/** One Server-Sent Events message. */
const frame = (event: string, data: unknown, id?: string | null) =>
  encodedFrame(event, JSON.stringify(data), id);

/**
 * `GET /v1/stream?topic=job|session|account&id=…&after=<position>`: the subscriptions of the socket
 * side as `text/event-stream`. Each event's id is its global position, so a reconnecting EventSource
 * resumes by `Last-Event-ID` (which wins over `after`). A heartbeat event every `heartbeatSeconds`; no
 * buffering or compression on the way (`X-Accel-Buffering: no`, `Cache-Control: no-transform`). A client
 * whose unsent bytes reach `maxPendingBytes` gets a `resync` event with its last position, and the stream
 * ends; the catch-up waits for room below that bound, at most twice the heartbeat per write.
 */
export const sseRoutes = (options: {
  subscriptions: SubscriptionDeps;
  heartbeatSeconds: number;
  maxPendingBytes: number;
  metrics: HubMetrics;
  streams: Set<Response>;
}): Router => {
  const router = Router();
  router.get('/v1/stream', requireUser, async (req, res) => {
    const query = parseWith(StreamQuery, req.query, 'query');
    const lastEventId = req.get('last-event-id');
    const after = lastEventId ? parseWith(Position, lastEventId, 'headers') : query.after;
    let opened;
    try {
      opened = await openSubscription(options.subscriptions, userOf(res), { topic: topicOf(query), after });
    } catch (error) {
      if (error instanceof SubscriptionRefused) throw new ApiProblem(error.code, error.message);
      throw error;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    options.streams.add(res);
    options.metrics.streams.inc();
    let last = after ?? opened.state?.position ?? null;
    let ended = false;
    let live: Subscription | undefined = undefined;
    const heartbeat = setInterval(
      () => res.write(frame('heartbeat', { at: new Date().toISOString() })),
      options.heartbeatSeconds * 1000,
    );
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      live?.unsubscribe();
      opened.cancel();
      options.streams.delete(res);
      options.metrics.streams.dec();
      res.end();
    };
    const resync = (reason: string) => {
      options.metrics.resyncs.inc({ reason });
      res.write(frame('resync', { position: last, reason }));
      end();
    };
    req.on('close', end);
    res.on('close', end);
    res.write(`retry: 1000\n${frame('resumed', opened.resumed)}`);
    if (opened.state) res.write(frame('state', opened.state, opened.state.position));
    const stallMs = options.heartbeatSeconds * 2000;
    try {
      for await (const batch of opened.catchUp.batches) {
        const room = await roomToWrite(res, options.maxPendingBytes, stallMs);
        if (ended) return;
        if (!room) return resync(ResyncReason.tooSlow);
        res.write(batch.map((event) => encodedFrame('event', event.json, event.position)).join(''));
        last = batch.at(-1)?.position ?? last;
        options.metrics.delivered.inc(batch.length);
      }
    } catch (error) {
      currentLogger().error({ err: error }, 'a catch-up could not be read');
      if (!ended) resync(ResyncReason.lostRead);
      return;
    }
    live = opened.live$.subscribe({
      next: (event) => {
        if (ended) return;
        if (res.writableLength >= options.maxPendingBytes) return resync(ResyncReason.tooSlow);
        res.write(frame('event', toDelivered(event), event.position));
        last = event.position;
        options.metrics.delivered.inc();
      },
      error: (error: unknown) =>
        resync(error instanceof FellBehind ? ResyncReason.tooSlow : ResyncReason.lostLiveStream),
    });
  });
  return router;
};
