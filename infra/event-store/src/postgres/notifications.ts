import { randomUUID } from 'node:crypto';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import pg from 'pg';
import { Subject } from 'rxjs';

/** `*` means "anything may have changed" (sent after a reconnect, when notifications may have been missed). */
export type StreamsChanged = readonly string[] | '*';

const MAX_PAYLOAD_BYTES = 7_000;

/**
 * LISTEN/NOTIFY for one store. An append wakes this process's readers at once, and other processes'
 * through one NOTIFY per `notifyEveryMs` window at most (a NOTIFY serializes commits, so many appends
 * share one): sent at once when none went out in the last window, else at the window's end. The listening connection reconnects by itself; a lost notification costs a reader at
 * most one poll interval, never an event.
 */
export class PostgresNotifications {
  readonly changes = new Subject<StreamsChanged>();
  readonly #instance = randomUUID();
  readonly #pool: pg.Pool;
  readonly #clientConfig: pg.ClientConfig;
  readonly #channel: string;
  readonly #notifyEveryMs: number;
  #listener: pg.Client | undefined;
  #listening: Promise<void> | undefined;
  #pending = new Set<string>();
  #flushTimer: NodeJS.Timeout | undefined;
  #lastFlushAt = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(pool: pg.Pool, clientConfig: pg.ClientConfig, channel: string, notifyEveryMs: number) {
    this.#pool = pool;
    this.#clientConfig = clientConfig;
    this.#channel = channel;
    this.#notifyEveryMs = notifyEveryMs;
  }

  /** Starts listening (once); resolves when the LISTEN is in place. */
  listen(): Promise<void> {
    this.#listening ??= this.#connectWithRetry();
    return this.#listening;
  }

  announce(streamId: string): void {
    this.changes.next([streamId]);
    this.#pending.add(streamId);
    if (this.#flushTimer) return;
    const wait = Math.max(0, this.#lastFlushAt + this.#notifyEveryMs - performance.now());
    this.#flushTimer = setTimeout(() => void this.#flush(), wait);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#flushTimer) await this.#flush();
    this.changes.complete();
    await this.#listener?.end().catch(() => undefined);
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#lastFlushAt = performance.now();
    const streams = [...this.#pending];
    this.#pending.clear();
    const fits = Buffer.byteLength(JSON.stringify(streams)) <= MAX_PAYLOAD_BYTES;
    const payload = JSON.stringify({ from: this.#instance, streams: fits ? streams : '*' });
    try {
      await this.#pool.query('select pg_notify($1, $2)', [this.#channel, payload]);
    } catch {
      // Readers poll as a safety net: a lost notification delays them, it loses nothing.
    }
  }

  #onNotification(payload: string | undefined): void {
    const message = parsePayload(payload);
    if (message.from !== this.#instance) this.changes.next(message.streams);
  }

  async #connectWithRetry(): Promise<void> {
    const policy = retry(handleAll, {
      maxAttempts: Number.MAX_SAFE_INTEGER,
      backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 5_000 }),
    });
    await policy.execute(async () => {
      if (this.#closed) return;
      const client = new pg.Client(this.#clientConfig);
      client.on('notification', (message) => this.#onNotification(message.payload));
      client.on('error', () => this.#reconnect(client));
      client.on('end', () => this.#reconnect(client));
      try {
        await client.connect();
        await client.query(`listen "${this.#channel}"`);
      } catch (error) {
        client.removeAllListeners('end');
        await client.end().catch(() => undefined);
        throw error;
      }
      this.#listener = client;
      // Whatever was announced while no one listened is unknown: every reader should look again.
      this.changes.next('*');
    });
  }

  #reconnect(client: pg.Client): void {
    if (this.#closed || this.#listener !== client) return;
    this.#listener = undefined;
    client.removeAllListeners();
    client.on('error', () => undefined);
    this.changes.next('*');
    this.#listening = this.#connectWithRetry();
  }
}

const parsePayload = (payload: string | undefined): { from: string | undefined; streams: StreamsChanged } => {
  try {
    const parsed = JSON.parse(payload ?? '{}') as { from?: unknown; streams?: unknown };
    const from = typeof parsed.from === 'string' ? parsed.from : undefined;
    const streams = parsed.streams;
    if (Array.isArray(streams) && streams.every((item) => typeof item === 'string')) return { from, streams };
    return { from, streams: '*' };
  } catch {
    return { from: undefined, streams: '*' };
  }
};
