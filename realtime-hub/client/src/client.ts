import { io, type Socket } from 'socket.io-client';
import type { Position } from '@kiln/contracts/position';
import {
  DeliveredEvent,
  PresenceMessage,
  ResyncMessage,
  StateMessage,
  SubscribeAck,
  type Resumed,
  type Topic,
} from '@kiln/contracts/realtime';
import { readEventStream } from '#src/sse.ts';
import { readStreamAnswer, type Refusal } from '#src/streamAnswer.ts';

export type { Refusal };
export type Transport = 'websocket' | 'sse';
export type Status = 'connecting' | 'live' | 'reconnecting' | 'closed';

export type SubscribeOptions = {
  /** The hub's base URL, e.g. `http://127.0.0.1:4400`, or several: a hub that cannot be reached is left for the next. */
  url: string | string[];
  topic: Topic;
  /** Where to start: the last position already seen. Without it, the current state comes first. */
  after?: Position;
  /** An API token (`kiln_…`), for programs; browsers send their session cookie on their own. */
  token?: string;
  /** A `Cookie` header to send (outside browsers), e.g. `kiln_session=…`. */
  cookie?: string;
  /** The order transports are tried in (default WebSocket, then SSE). */
  transports?: Transport[];
  /**
   * WebSocket failing to connect this many times in a row (default 3) moves on to the next transport,
   * whether it never connected or worked before and now keeps failing; the next one resumes from the
   * last position. The move is told through `onStatus` ('reconnecting') and `transport()`.
   */
  websocketAttempts?: number;
  /** Twice this without a word on SSE (heartbeats included) counts as a dead connection. */
  heartbeatSeconds?: number;
  /** How long a hub may take to answer a subscription before the client tries again (default 10 s). */
  subscribeTimeoutMs?: number;
  onEvent: (event: DeliveredEvent) => void;
  onState?: (state: StateMessage) => void;
  onPresence?: (presence: PresenceMessage) => void;
  onResumed?: (resumed: Resumed, transport: Transport) => void;
  onStatus?: (status: Status, detail?: string) => void;
  /** A refusal (not signed in, not allowed, not found, a bad request): the subscription stops. */
  onRefused?: (error: Refusal) => void;
};

export type RealtimeSubscription = {
  /** The last position delivered: what a reconnect resumes from. */
  position(): Position | null;
  transport(): Transport;
  /** The hub it is connected (or connecting) to. */
  url(): string;
  /** Drops the connection and resumes on a new one, as after a network change. */
  reconnect(): void;
  close(): void;
};

const transportNames: Record<Transport, string> = { websocket: 'WebSocket', sse: 'Server-Sent Events' };

/** Whether anything answers HTTP at the hub's address (an opaque answer will do: nothing of it is read). */
const hubAnswersHttp = async (url: string): Promise<boolean> => {
  try {
    await fetch(`${url}/healthz`, { mode: 'no-cors', signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
};

/**
 * Subscribes to one topic of Kiln's realtime hub and keeps it going: every event after the last one
 * delivered, exactly once and in order, across dropped connections, hub restarts and hub instances. It
 * remembers the last position, reconnects with it, and falls back from WebSocket to Server-Sent Events
 * when WebSocket will not connect, at first or later. Messages are checked against the contracts on the
 * way in.
 */
export const subscribe = (options: SubscribeOptions): RealtimeSubscription => {
  const order = options.transports ?? ['websocket', 'sse'];
  let transportIndex = 0;
  let last: Position | null = options.after ?? null;
  let snapshotTaken = false;
  let closed = false;
  let socket: Socket | undefined;
  let abortSse: AbortController | undefined;
  const subscriptionId = `s-${Math.random().toString(36).slice(2, 10)}`;
  const status = (value: Status, detail?: string) => options.onStatus?.(value, detail);

  const deliver = (raw: unknown) => {
    const event = DeliveredEvent.parse(raw);
    if (last !== null && event.position <= last) return; // already delivered before a reconnect
    last = event.position;
    options.onEvent(event);
  };
  const takeState = (raw: unknown) => {
    const state = StateMessage.parse(raw);
    snapshotTaken = true;
    if (state.position !== null && (last === null || state.position > last)) last = state.position;
    options.onState?.(state);
  };
  /** From where the next (re)subscription starts: the last position, or the state again if none yet. */
  const resumeFrom = () => last ?? undefined;

  const refused = (error: Refusal) => {
    closed = true;
    options.onRefused?.(error);
    status('closed', error.message);
    socket?.close();
  };

  const urls = Array.isArray(options.url) ? options.url : [options.url];
  let urlIndex = 0;
  const currentUrl = () => urls[urlIndex % urls.length] ?? '';
  let websocketFailures = 0;
  let sseFailures = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;
  /** Resolves after `ms`, or never if the subscription is closed meanwhile. */
  const pause = (ms: number) => new Promise((resolve) => (retry = setTimeout(resolve, ms)));
  /** Ends the WebSocket connection in use (connected or still connecting) and starts the next one. */
  let dropConnection: ((reason: string) => void) | undefined;

  /** One Socket.IO connection at a time; when it ends, the next one resumes from the last position. */
  const useWebSocket = () => {
    const headers: Record<string, string> = {};
    if (options.cookie) headers['cookie'] = options.cookie;
    const current = io(currentUrl(), {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      withCredentials: true,
      ...(options.token ? { auth: { token: options.token } } : {}),
      ...(Object.keys(headers).length > 0 ? { extraHeaders: headers } : {}),
    });
    socket = current;
    let ended = false;
    const end = () => {
      ended = true;
      dropConnection = undefined;
      current.removeAllListeners();
      current.close();
    };
    const again = (reason: string, nextHub: boolean) => {
      if (ended || closed) return;
      end();
      status('reconnecting', reason);
      if (nextHub) urlIndex += 1;
      const delay = Math.min(100 * 2 ** Math.min(websocketFailures, 5), 3_000);
      retry = setTimeout(() => !closed && start(), delay);
    };
    // A socket that has not connected yet says nothing when closed: the drop goes through `again`.
    dropConnection = (reason) => again(reason, false);
    current.on('connect', () => {
      websocketFailures = 0;
      const after = resumeFrom();
      current
        .timeout(options.subscribeTimeoutMs ?? 10_000)
        .emit(
          'subscribe',
          { subscriptionId, topic: options.topic, ...(after ? { after } : {}) },
          (timedOut: Error | null, raw: unknown) => {
            if (timedOut) return again('the hub did not answer the subscription in time', true);
            const ack = SubscribeAck.safeParse(raw);
            if (!ack.success) return again('the hub answered something unexpected', true);
            if (!ack.data.ok)
              return ack.data.error.code === 'internal'
                ? again(ack.data.error.message, true)
                : refused(ack.data.error);
            channel = ack.data.channel;
            if (ack.data.resumed) options.onResumed?.(ack.data.resumed, 'websocket');
            status('live');
          },
        );
    });
    let channel: string | undefined;
    current.on('event', (message: { channel?: unknown; event?: unknown }) => {
      if (channel !== undefined && message.channel === channel) deliver(message.event);
    });
    current.on('events', (message: { channel?: unknown; events?: unknown }) => {
      if (channel !== undefined && message.channel === channel && Array.isArray(message.events))
        for (const event of message.events) deliver(event);
    });
    current.on('state', (message: { subscriptionId?: unknown }) => {
      if (message.subscriptionId === subscriptionId && !snapshotTaken) takeState(message);
    });
    current.on('presence', (raw: unknown) => {
      const presence = PresenceMessage.safeParse(raw);
      if (presence.success) options.onPresence?.(presence.data);
    });
    current.on('resync', (raw: unknown) => {
      const resync = ResyncMessage.safeParse(raw);
      again(resync.success ? resync.data.reason : 'the hub asked to resync', false);
    });
    current.on('disconnect', (reason) => again(reason, false));
    current.on('connect_error', (error) => {
      if (closed) return;
      if (error.message.startsWith('unauthenticated'))
        return refused({ code: 'unauthenticated', message: error.message });
      websocketFailures += 1;
      if (websocketFailures >= (options.websocketAttempts ?? 3) && transportIndex < order.length - 1) {
        const url = currentUrl();
        end();
        status('reconnecting', error.message);
        // Only a hub that answers HTTP while its WebSocket fails is one SSE can get around; a hub that
        // answers nothing (restarting, say) would fail SSE too: WebSocket is tried again.
        void hubAnswersHttp(url).then((answers) => {
          if (closed) return;
          if (answers) return moveToNextTransport(`WebSocket failed ${websocketFailures} times in a row`);
          urlIndex += 1;
          retry = setTimeout(() => !closed && start(), 1_000);
        });
        return;
      }
      again(error.message, true);
    });
  };

  const moveToNextTransport = (reason: string) => {
    transportIndex += 1;
    status('reconnecting', `${reason}: going on over ${transportNames[order[transportIndex] ?? 'sse']}`);
    start();
  };

  const streamUrl = () => {
    const query = new URLSearchParams({ topic: options.topic.kind });
    if (options.topic.kind === 'job') query.set('id', options.topic.jobId);
    if (options.topic.kind === 'session') query.set('id', options.topic.sessionId);
    if (options.topic.kind === 'account' && options.topic.accountId) query.set('id', options.topic.accountId);
    return `${currentUrl()}/v1/stream?${query.toString()}`;
  };
  const streamHeaders = () => {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    const after = resumeFrom();
    if (after) headers['last-event-id'] = after;
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (options.cookie) headers['cookie'] = options.cookie;
    return headers;
  };

  /** How one SSE request ended: refused (the subscription is over), or why and when to ask again. */
  type StreamEnd = 'refused' | { reason: string; nextHub: boolean; retryAfterMs?: number | undefined };

  /** One SSE request, read until it ends, breaks or falls silent for twice the heartbeat interval. */
  const streamOnce = async (): Promise<StreamEnd> => {
    const abort = (abortSse = new AbortController());
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const silenceLimit = (options.heartbeatSeconds ?? 15) * 2_000;
    const feedWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => abort.abort(), silenceLimit);
    };
    try {
      const response = await fetch(streamUrl(), {
        headers: streamHeaders(),
        credentials: 'include',
        signal: abort.signal,
      });
      const answer = await readStreamAnswer(response);
      if (answer.kind === 'refused') {
        refused(answer.refusal);
        return 'refused';
      }
      if (answer.kind === 'passing')
        return { reason: answer.reason, nextHub: true, retryAfterMs: answer.retryAfterMs };
      feedWatchdog();
      for await (const message of readEventStream(answer.body)) {
        feedWatchdog();
        sseFailures = 0;
        const data: unknown = JSON.parse(message.data);
        if (message.event === 'event') deliver(data);
        else if (message.event === 'state' && !snapshotTaken)
          takeState({ subscriptionId, ...(data as object) });
        else if (message.event === 'resumed') {
          options.onResumed?.(data as Resumed, 'sse');
          status('live');
        } else if (message.event === 'resync') return { reason: 'the hub asked to resync', nextHub: false };
      }
      return { reason: 'the stream ended', nextHub: false };
    } catch (error) {
      return { reason: error instanceof Error ? error.message : 'the stream broke', nextHub: true };
    } finally {
      clearTimeout(watchdog);
      abort.abort();
    }
  };

  /** One SSE request at a time; the next one resumes from the last position, after a pause. */
  const useSse = () => {
    void (async () => {
      while (!closed) {
        const end = await streamOnce();
        if (closed || end === 'refused') return;
        status('reconnecting', end.reason);
        if (end.nextHub) urlIndex += 1;
        sseFailures += 1;
        await pause(end.retryAfterMs ?? Math.min(200 * 2 ** sseFailures, 5_000));
      }
    })();
  };

  const start = () => {
    status('connecting');
    if (order[transportIndex] === 'sse') useSse();
    else useWebSocket();
  };
  start();

  return {
    position: () => last,
    transport: () => order[transportIndex] ?? 'websocket',
    url: currentUrl,
    reconnect: () => {
      if (order[transportIndex] === 'sse') abortSse?.abort();
      else dropConnection?.('reconnect asked for');
    },
    close: () => {
      closed = true;
      clearTimeout(retry);
      socket?.close();
      abortSse?.abort();
      status('closed');
    },
  };
};
