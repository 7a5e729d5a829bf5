import type { Db } from 'mongodb';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import type { EventStore } from '@kiln/event-store/port';
import type { Logger } from '@kiln/service-kit/logger';
import type { Projection } from '#src/projections/projection.ts';
import { DocumentBuffer } from '#src/projector/documentBuffer.ts';
import { foldEvents } from '#src/projector/foldEvents.ts';
import type { Wake } from '#src/projector/wake.ts';
import {
  ensureState,
  loadState,
  saveCheckpoint,
  type ProjectionState,
} from '#src/readModels/projectionState.ts';

export type ProjectorOptions = {
  store: EventStore<KilnEvent>;
  db: Db;
  projection: Projection;
  logger: Logger;
  wake: Wake;
  batchSize: number;
  onBatch?:
    ((batch: { projector: string; events: number; applied: number; seconds: number }) => void) | undefined;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const IDLE_CHECK_MS = 1_000;

/**
 * One projection kept up to date: a batch of `$all` after its checkpoint is folded, written, then the
 * checkpoint moves (a crash in between replays the batch, which changes nothing twice). It follows a
 * rebuild's swap: when its generation is no longer the live one, it goes on from the new one's position.
 */
export const startLiveProjector = (options: ProjectorOptions) => {
  const { store, db, projection, wake } = options;
  const log = options.logger.child({ projector: projection.name });
  let stopped = false;
  let state: ProjectionState | undefined;
  let buffer: DocumentBuffer | undefined;
  let position: Position | null = null;

  const adopt = (fresh: ProjectionState) => {
    state = fresh;
    position = fresh.position;
    buffer = new DocumentBuffer(db, projection, fresh.collections);
  };

  const step = async () => {
    const fresh = await loadState(db, projection.name);
    if (!fresh) throw new Error(`the state of projection ${projection.name} is gone`);
    if (!state || !buffer || fresh.generation !== state.generation) {
      if (state)
        log.info({ generation: fresh.generation }, 'a rebuilt generation was swapped in; going on from it');
      adopt(fresh);
    }
    const live = state as ProjectionState;
    const working = buffer as DocumentBuffer;
    const events = await store.readAll({
      ...(position ? { after: position } : {}),
      maxCount: options.batchSize,
    });
    const last = events.at(-1);
    if (!last) {
      await wake.wait(IDLE_CHECK_MS);
      return;
    }
    const started = performance.now();
    const applied = await foldEvents(projection, working, events);
    await working.flush();
    if (!(await saveCheckpoint(db, projection.name, live.generation, last.position))) {
      state = undefined;
      return;
    }
    position = last.position;
    options.onBatch?.({
      projector: projection.name,
      events: events.length,
      applied,
      seconds: (performance.now() - started) / 1000,
    });
  };

  const running = (async () => {
    let failures = 0;
    adopt(await ensureState(db, projection));
    while (!stopped) {
      try {
        await step();
        failures = 0;
      } catch (error) {
        if (stopped) return;
        failures += 1;
        log.error({ err: error }, 'a batch failed; going on from the checkpoint');
        state = undefined;
        buffer?.reset();
        await sleep(Math.min(100 * 2 ** failures, 10_000));
      }
    }
  })();

  return {
    name: projection.name,
    position: () => position,
    stop: async () => {
      stopped = true;
      wake.bump();
      await running;
    },
  };
};
