import type { Db } from 'mongodb';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import type { ProjectorLag } from '@kiln/contracts/views';
import type { EventStore } from '@kiln/event-store/port';
import type { Logger } from '@kiln/service-kit/logger';
import { projections } from '#src/projections/all.ts';
import { startLiveProjector, type ProjectorOptions } from '#src/projector/liveProjector.ts';
import { Wake } from '#src/projector/wake.ts';
import { loadStates } from '#src/readModels/projectionState.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every projection's lag behind the head of `$all`, from the checkpoints (any instance can tell). */
export const projectionLag = async (store: EventStore<KilnEvent>, db: Db): Promise<ProjectorLag[]> => {
  const [states, head] = await Promise.all([loadStates(db), store.headPosition()]);
  return Promise.all(
    projections.map(async ({ name }) => {
      const position = states.find((state) => state._id === name)?.position ?? null;
      const eventsBehind = await store.countAll(position ? { after: position } : {});
      return { projector: name, position, head, eventsBehind, caughtUp: eventsBehind === 0 };
    }),
  );
};

/**
 * Resolves once every projection's checkpoint has reached `position` (read your own write); rejects after
 * `timeoutMs`. Reads the checkpoints, so it works on an instance that serves reads without projecting.
 */
export const waitForProjections = async (db: Db, position: Position, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await loadStates(db);
    const reached = projections.every(({ name }) => {
      const checkpoint = states.find((state) => state._id === name)?.position;
      return checkpoint !== null && checkpoint !== undefined && checkpoint >= position;
    });
    if (reached) return;
    if (Date.now() >= deadline)
      throw new Error(`the projections did not reach ${position} in ${timeoutMs} ms`);
    await sleep(Math.min(25, Math.max(1, deadline - Date.now())));
  }
};

/** The live projectors of every projection, woken by a subscription to the head of `$all`. */
export const startProjectors = async (options: {
  store: EventStore<KilnEvent>;
  db: Db;
  logger: Logger;
  batchSize: number;
  onBatch?: ProjectorOptions['onBatch'];
}) => {
  const wake = new Wake();
  const head = await options.store.headPosition();
  const news = options.store.subscribeToAll(head ? { after: head } : {});
  const watching = news.asObservable().subscribe({ next: () => wake.bump(), error: () => undefined });
  const running = projections.map((projection) => startLiveProjector({ ...options, projection, wake }));
  return {
    positions: () => Object.fromEntries(running.map((projector) => [projector.name, projector.position()])),
    stop: async () => {
      watching.unsubscribe();
      await news.close();
      await Promise.all(running.map((projector) => projector.stop()));
    },
  };
};

export type Projectors = Awaited<ReturnType<typeof startProjectors>>;
