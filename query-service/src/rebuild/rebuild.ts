import type { Db } from 'mongodb';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import type { EventStore } from '@kiln/event-store/port';
import type { Projection } from '#src/projections/projection.ts';
import { DocumentBuffer } from '#src/projector/documentBuffer.ts';
import { foldEvents } from '#src/projector/foldEvents.ts';
import { claimRebuild, saveRebuildCheckpoint, swapInRebuild } from '#src/readModels/projectionState.ts';

export type RebuildProgress = { done: number; total: number; eventsPerSecond: number };

export type RebuildOptions = {
  store: EventStore<KilnEvent>;
  db: Db;
  projection: Projection;
  onProgress?: (progress: RebuildProgress) => void;
  /** Events read from `$all` at a time. */
  batchSize?: number;
  /**
   * Documents held in memory before they are written (and the rebuild checkpointed): a job or a balance
   * is then written about once, not once per batch. Bounds the rebuild's memory.
   */
  maxBufferedDocs?: number;
  /** How long the old collections stay after the swap, for readers that still resolve to them. */
  retireAfterMs?: number;
};

export type RebuildResult = {
  projection: string;
  generation: number;
  events: number;
  /** Time to fold and write, before the swap. */
  seconds: number;
  position: Position | null;
  resumed: boolean;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Rebuilds a projection from position zero into a new generation of its collections while the live one
 * keeps serving, then swaps it in (one update of the projection's state) and drops the old collections.
 * Checkpointed as it goes: a rebuild cut short is resumed by the next one.
 */
export const rebuildProjection = async (options: RebuildOptions): Promise<RebuildResult> => {
  const { store, db, projection } = options;
  const batchSize = options.batchSize ?? 2_000;
  const maxBufferedDocs = options.maxBufferedDocs ?? 50_000;
  const { rebuilding, resumed } = await claimRebuild(db, projection);
  const { generation } = rebuilding;
  const buffer = new DocumentBuffer(db, projection, rebuilding.collections, {
    startsEmpty: !resumed,
    cacheSize: 100_000,
  });
  let position = rebuilding.position;
  const total = await store.countAll();
  let done = position ? total - (await store.countAll({ after: position })) : 0;
  const startedAt = performance.now();
  const doneAtStart = done;
  const report = () => {
    const seconds = (performance.now() - startedAt) / 1000;
    options.onProgress?.({
      done,
      total: Math.max(total, done),
      eventsPerSecond: seconds > 0 ? (done - doneAtStart) / seconds : 0,
    });
  };
  const flush = async () => {
    await buffer.flush();
    if (position) await saveRebuildCheckpoint(db, projection.name, generation, position);
  };
  const read = (after: Position | null) => {
    const reading = store.readAll({ ...(after ? { after } : {}), maxCount: batchSize });
    reading.catch(() => undefined); // awaited below; a rebuild that fails first must not leave it unhandled
    return reading;
  };

  report();
  // The next batch is read from the event store while this one is folded and written.
  let reading = read(position);
  for (;;) {
    const events = await reading;
    const last = events.at(-1);
    if (!last) break;
    reading = read(last.position);
    await foldEvents(projection, buffer, events);
    position = last.position;
    done += events.length;
    if (buffer.size >= maxBufferedDocs) await flush();
    report();
  }
  await flush();
  report();
  const seconds = (performance.now() - startedAt) / 1000;
  const { retired } = await swapInRebuild(db, projection.name, generation);
  await sleep(options.retireAfterMs ?? 3_000);
  for (const physical of Object.values(retired)) {
    if (!Object.values(rebuilding.collections).includes(physical))
      await db.dropCollection(physical).catch(() => false);
  }
  return {
    projection: projection.name,
    generation,
    events: done - doneAtStart,
    seconds,
    position,
    resumed,
  };
};
