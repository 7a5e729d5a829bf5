// Live updates in the browser: the account's billing events from the realtime hub (WebSocket, SSE when
// that fails) make the page read its data again, so the balance in the account menu follows every change.
import { useEffect, useRef, useState } from 'react';
import type { DeliveredEvent } from '@kiln/contracts/realtime';
import { useRevalidator } from 'react-router';

export type FeedStatus = 'off' | 'connecting' | 'live' | 'reconnecting' | 'closed';

export function useAccountFeed(hubUrl: string | null): FeedStatus {
  const [status, setStatus] = useState<FeedStatus>('off');
  const { revalidate } = useRevalidator();

  useEffect(() => {
    if (!hubUrl) {
      setStatus('off');
      return;
    }
    let stopped = false;
    let close = () => {};
    let pending: ReturnType<typeof setTimeout> | undefined;
    // Several events at once (a reservation and a job's capture, say) make one reload, not several.
    const refresh = () => {
      clearTimeout(pending);
      pending = setTimeout(() => void revalidate(), 150);
    };
    setStatus('connecting');
    void import('@kiln/realtime-client').then(({ subscribe }) => {
      if (stopped) return;
      const subscription = subscribe({
        url: hubUrl,
        topic: { kind: 'account' },
        onEvent: refresh,
        onStatus: (next) => setStatus(next),
        onRefused: () => setStatus('closed'),
      });
      close = () => subscription.close();
    });
    return () => {
      stopped = true;
      clearTimeout(pending);
      close();
    };
  }, [hubUrl, revalidate]);

  return status;
}

/**
 * Watches jobs still under way (each from the position the page was rendered at) and reloads the page's
 * data when one of them moves, so their status and progress follow without a reload. The subscriptions
 * live as long as the set of jobs stays the same; each resumes from its own last position on reconnects.
 */
export function useJobsFeed(hubUrl: string | null, jobs: readonly { jobId: string; position: string }[]) {
  const { revalidate } = useRevalidator();
  const key = jobs.map((job) => job.jobId).join(',');
  const [positions] = useState(() => new Map<string, string>());
  for (const job of jobs) if (!positions.has(job.jobId)) positions.set(job.jobId, job.position);

  useEffect(() => {
    if (!hubUrl || key === '') return;
    let stopped = false;
    let pending: ReturnType<typeof setTimeout> | undefined;
    const closers: (() => void)[] = [];
    const refresh = () => {
      clearTimeout(pending);
      pending = setTimeout(() => void revalidate(), 150);
    };
    void import('@kiln/realtime-client').then(({ subscribe }) => {
      if (stopped) return;
      for (const jobId of key.split(',')) {
        const after = positions.get(jobId);
        const subscription = subscribe({
          url: hubUrl,
          topic: { kind: 'job', jobId },
          ...(after ? { after } : {}),
          onEvent: refresh,
        });
        closers.push(() => subscription.close());
      }
    });
    return () => {
      stopped = true;
      clearTimeout(pending);
      for (const close of closers) close();
    };
  }, [hubUrl, key, positions, revalidate]);
}

/**
 * Follows one job after `after` (the position its page was rendered at): every event goes to `onEvent`,
 * in order; the client resumes from its last position on reconnects, so nothing is missed or repeated.
 * Says whether the feed is live or reconnecting.
 */
export function useJobFeed(
  hubUrl: string | null,
  jobId: string,
  after: string,
  onEvent: (event: DeliveredEvent) => void,
): FeedStatus {
  const [status, setStatus] = useState<FeedStatus>('off');
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });
  const [from] = useState(after);

  useEffect(() => {
    if (!hubUrl) {
      setStatus('off');
      return;
    }
    let stopped = false;
    let close = () => {};
    setStatus('connecting');
    void import('@kiln/realtime-client').then(({ subscribe }) => {
      if (stopped) return;
      const subscription = subscribe({
        url: hubUrl,
        topic: { kind: 'job', jobId },
        after: from,
        onEvent: (event) => handler.current(event),
        onStatus: (next) => setStatus(next),
        onRefused: () => setStatus('closed'),
      });
      close = () => subscription.close();
    });
    return () => {
      stopped = true;
      close();
    };
  }, [hubUrl, jobId, from]);

  return status;
}

export type Watcher = { userId: string; displayName: string };

/**
 * Follows a shared session after `after`: its own events and those of its jobs go to `onEvent`, in order,
 * and who is watching it now (on every hub instance) comes back as `watchers`.
 */
export function useSessionFeed(
  hubUrl: string | null,
  sessionId: string,
  after: string,
  onEvent: (event: DeliveredEvent) => void,
): { status: FeedStatus; watchers: Watcher[] } {
  const [status, setStatus] = useState<FeedStatus>('off');
  const [watchers, setWatchers] = useState<Watcher[]>([]);
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });
  const [from] = useState(after);

  useEffect(() => {
    if (!hubUrl) {
      setStatus('off');
      return;
    }
    let stopped = false;
    let close = () => {};
    setStatus('connecting');
    void import('@kiln/realtime-client').then(({ subscribe }) => {
      if (stopped) return;
      const subscription = subscribe({
        url: hubUrl,
        topic: { kind: 'session', sessionId },
        after: from,
        onEvent: (event) => handler.current(event),
        onPresence: (presence) => setWatchers(presence.watchers),
        onStatus: (next) => setStatus(next),
        onRefused: () => setStatus('closed'),
      });
      close = () => subscription.close();
    });
    return () => {
      stopped = true;
      close();
    };
  }, [hubUrl, sessionId, from]);

  return { status, watchers };
}
