import type { ServerResponse } from 'node:http';
import { sendReply, type StubReply } from '#src/providers/stubs/httpServer.ts';

/** The API calls a stub counts and can fault, by what they do. */
export type CallKind = 'create' | 'status' | 'result' | 'cancel';

/** What a stub does instead of (or before) answering one call. `on` limits it to one kind of call. */
export type Fault = { on?: CallKind } & (
  | { status: number; retryAfter?: number | string; body?: unknown }
  | { hangMs: number }
  | { malformed: true }
  | { reset: true }
);

const STATUS_BODIES: Record<number, unknown> = {
  429: { detail: 'Request was throttled. Your rate limit resets in ~1s.', status: 429 },
  500: { detail: 'Internal server error', status: 500 },
  502: { detail: 'Bad gateway', status: 502 },
  503: { detail: 'Service unavailable', status: 503 },
  504: { detail: 'Gateway timeout', status: 504 },
};

/**
 * A script of faults for a stub's next calls, and a count of the calls it received. Faults are used in
 * order, each once (the first one whose `on` fits the call); `failAlways` applies when the script is empty.
 */
export const createFaultScript = () => {
  const script: Fault[] = [];
  let always: Fault | undefined;
  const timers = new Set<NodeJS.Timeout>();
  const calls: Record<CallKind, number> = { create: 0, status: 0, result: 0, cancel: 0 };

  const take = (kind: CallKind): Fault | undefined => {
    const index = script.findIndex((fault) => fault.on === undefined || fault.on === kind);
    if (index === -1) return always && (always.on === undefined || always.on === kind) ? always : undefined;
    return script.splice(index, 1)[0];
  };

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  return {
    calls,
    /** Answers the next calls with these statuses (429 with `retryAfter` seconds or an HTTP date, 5xx...). */
    failNext: (faults: Fault | Fault[]) => {
      script.push(...(Array.isArray(faults) ? faults : [faults]));
    },
    /** Holds the next call `ms` before answering it normally: past a client's timeout, it looks hung. */
    hangNext: (ms: number, on?: CallKind) => {
      script.push({ hangMs: ms, ...(on ? { on } : {}) });
    },
    /** Answers the next call 200 with a body that is not JSON. */
    malformedNext: (on?: CallKind) => {
      script.push({ malformed: true, ...(on ? { on } : {}) });
    },
    /** Applies a fault to every call until called again without one. */
    failAlways: (fault: Fault | undefined) => {
      always = fault;
    },
    clear: () => {
      script.length = 0;
      always = undefined;
    },
    /** Counts the call and plays its fault; true when the fault answered it (the route must not). */
    play: async (kind: CallKind, response: ServerResponse): Promise<boolean> => {
      calls[kind] += 1;
      const fault = take(kind);
      if (!fault) return false;
      if ('hangMs' in fault) {
        await wait(fault.hangMs);
        return false; // then handled as usual, like a provider that acts on a request its caller gave up on
      }
      if ('reset' in fault) {
        response.socket?.destroy();
        return true;
      }
      if ('malformed' in fault) {
        sendReply(response, {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: '{"id": "unfinished',
        });
        return true;
      }
      const reply: StubReply = {
        status: fault.status,
        body: fault.body ?? STATUS_BODIES[fault.status] ?? { detail: 'Request failed', status: fault.status },
        ...(fault.retryAfter === undefined ? {} : { headers: { 'retry-after': String(fault.retryAfter) } }),
      };
      sendReply(response, reply);
      return true;
    },
    /** Ends pending hangs (on close). */
    stop: () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
};

export type FaultScript = ReturnType<typeof createFaultScript>;

/** What a stub does with the webhooks it sends: deliver them, lose them on the way, or keep them back. */
export type WebhookMode = 'deliver' | 'drop' | 'hold';

/**
 * The gate a stub's webhooks pass through. `drop` loses them (the provider believes it sent them; the
 * receiver never hears of them), `hold` keeps them back until `release`, which sends them late, in their
 * order, and delivers at once again from then on.
 */
export const createWebhookGate = <Delivery>(deliver: (key: string, delivery: Delivery) => unknown) => {
  let mode: WebhookMode = 'deliver';
  const held: Array<{ key: string; delivery: Delivery }> = [];
  const lost: Delivery[] = [];
  return {
    send: (key: string, delivery: Delivery): void => {
      if (mode === 'drop') lost.push(delivery);
      else if (mode === 'hold') held.push({ key, delivery });
      else deliver(key, delivery);
    },
    /** Loses every webhook from now on, until `release`. */
    drop: () => {
      mode = 'drop';
    },
    /** Keeps every webhook back from now on, until `release`. */
    hold: () => {
      mode = 'hold';
    },
    /** Sends the webhooks held back, in order, and delivers the next ones at once. */
    release: () => {
      mode = 'deliver';
      for (const { key, delivery } of held.splice(0)) deliver(key, delivery);
    },
    /** Every webhook lost while dropping, in order. */
    lost: (): readonly Delivery[] => lost,
  };
};
