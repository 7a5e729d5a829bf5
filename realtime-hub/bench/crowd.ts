// The bench's side of the clients process (bench/clients.ts): one request at a time over IPC.
import { fork } from 'node:child_process';
import { join } from 'node:path';

/**
 * What a delivery measures: the hub; the raw pipeline (append, NOTIFY, broadcast) of the raw Socket.IO
 * server beside it; or a bare broadcast of that server (no append at all), which reaches the raw crowd.
 */
export type Side = 'hub' | 'raw' | 'bare';

type Subscribe = { subscriptionId?: string; topic: unknown; after?: string };
export type Command = { id?: number } & (
  | { kind: 'connect'; side: Side; url: string; count: number; cookie?: string; subscribe?: Subscribe }
  | { kind: 'drain'; side: Side; deliveries: number; timeoutMs: number }
  | { kind: 'report' }
  | { kind: 'replay'; url: string; cookie: string; subscribe: Subscribe; events: number }
  | { kind: 'stop' }
);

export type Tally = { latencies: number[]; delivered: number; duplicates: number };
export type Replayed = { seconds: number; received: number; outOfOrder: number };

export const startCrowd = async () => {
  const child = fork(join(import.meta.dirname, 'clients.ts'));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the clients process exited with ${code}`))),
  );
  exited.catch(() => undefined);
  await Promise.race([new Promise((resolve) => child.once('message', resolve)), exited]);
  let nextId = 0;
  const ask = async <Result>(command: Command): Promise<Result> => {
    const id = (nextId += 1);
    const answered = new Promise<Result>((resolve, reject) => {
      const onMessage = (message: { id?: number; result?: Result; error?: string }) => {
        if (message.id !== id) return;
        child.off('message', onMessage);
        if (message.error) reject(new Error(message.error));
        else resolve(message.result as Result);
      };
      child.on('message', onMessage);
    });
    child.send({ ...command, id });
    return Promise.race([answered, exited]);
  };
  return {
    connect: (command: Omit<Extract<Command, { kind: 'connect' }>, 'kind'>) =>
      ask<void>({ kind: 'connect', ...command }),
    /** Waits until a side has had `deliveries` in all (or 10 s have passed). */
    drain: (side: Side, deliveries: number) =>
      ask<void>({ kind: 'drain', side, deliveries, timeoutMs: 10_000 }),
    report: () => ask<Record<Side, Tally>>({ kind: 'report' }),
    replay: (command: Omit<Extract<Command, { kind: 'replay' }>, 'kind'>) =>
      ask<Replayed>({ kind: 'replay', ...command }),
    stop: async () => {
      child.send({ kind: 'stop' });
      await exited.catch(() => undefined);
    },
  };
};

export type Crowd = Awaited<ReturnType<typeof startCrowd>>;
