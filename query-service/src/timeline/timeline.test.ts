import { describe, expect, it } from 'vitest';
import { jobStreamId, sessionStreamId } from '@kiln/contracts/streams';
import { jobsProjection } from '#src/projections/jobs.ts';
import { jobTimelineOf } from '#src/timeline/jobTimeline.ts';
import { sessionTimelineOf } from '#src/timeline/sessionTimeline.ts';
import { fold, recorded } from '#src/testing/recorded.ts';
import { MAX_TIMELINE_EVENTS, MAX_TIMELINE_JOBS } from '@kiln/contracts/views/timeline';

const jobEvents = (jobId: string) => {
  const stream = jobStreamId(jobId);
  return {
    requested: recorded(
      'JobRequested',
      {
        jobId,
        accountId: 'a1',
        userId: 'u1',
        request: {
          kind: 'image',
          modelId: 'kiln-local-image',
          prompt: 'p',
          width: 512,
          height: 512,
          count: 1,
        },
        inputs: [],
        cost: 2,
        deadline: '2027-01-01T00:00:00.000Z',
      },
      stream,
    ),
    submitted: () =>
      recorded(
        'JobProviderSubmitted',
        { jobId, provider: 'local', providerJobId: 'p', attempt: 1, idempotencyKey: 'k' },
        stream,
      ),
    progressed: (progress: number) =>
      recorded('JobProgressed', { jobId, step: 'rendering', progress, log: `at ${progress}` }, stream),
    completed: () => recorded('JobCompleted', { jobId }, stream),
  };
};

describe("a job's timeline", () => {
  it('gives every event of its stream with the job after it, ending where the read model is', () => {
    const job = jobEvents('j1');
    const events = [
      job.requested,
      job.submitted(),
      job.progressed(0.5),
      job.progressed(0.9),
      job.completed(),
    ];
    const { entries, truncated } = jobTimelineOf('j1', events);
    expect(truncated).toBe(false);
    expect(entries.map(({ event }) => event.position)).toEqual(events.map((event) => event.position));
    expect(entries.map(({ state }) => [state?.status, state?.progress])).toEqual([
      ['requested', 0],
      ['submitted', 0],
      ['running', 0.5],
      ['running', 0.9],
      ['completed', 1],
    ]);
    const { _id: _ignored, ...projected } = fold(jobsProjection, events).docs[0] ?? {};
    expect(entries.at(-1)?.state).toEqual(projected);
  });

  it(`holds at most ${MAX_TIMELINE_EVENTS} events, and says when it was cut`, () => {
    const job = jobEvents('j-long');
    const progress = Array.from({ length: MAX_TIMELINE_EVENTS }, (_, index) =>
      job.progressed(index / MAX_TIMELINE_EVENTS),
    );
    const { entries, truncated } = jobTimelineOf('j-long', [job.requested, ...progress]);
    expect(entries).toHaveLength(MAX_TIMELINE_EVENTS);
    expect(truncated).toBe(true);
  });
});

describe("a session's timeline", () => {
  const session = (sessionId: string) => {
    const stream = sessionStreamId(sessionId);
    return {
      opened: () => recorded('SessionOpened', { sessionId, title: 'moodboard', ownerId: 'u1' }, stream),
      joined: (userId: string) =>
        recorded('SessionMemberJoined', { sessionId, userId, displayName: userId }, stream),
      added: (jobId: string) => recorded('SessionJobAdded', { sessionId, jobId, addedBy: 'u1' }, stream),
    };
  };

  it("gives its own events and its jobs' events from when each was added, with the session after each", () => {
    const s = session('s1');
    const a = jobEvents('ja');
    const opened = s.opened();
    const joined = s.joined('u1');
    const requested = a.requested;
    const before = a.submitted();
    const added = s.added('ja');
    const progressed = a.progressed(0.5);
    const guest = s.joined('u2');
    const completed = a.completed();
    const sessionEvents = [opened, joined, added, guest];
    const jobStream = [requested, before, progressed, completed];
    const { entries, truncated } = sessionTimelineOf(
      's1',
      sessionEvents,
      new Map([[jobStreamId('ja'), jobStream]]),
    );
    expect(truncated).toBe(false);
    expect(entries.map(({ event }) => event.type)).toEqual([
      'SessionOpened',
      'SessionMemberJoined',
      'SessionJobAdded',
      'JobProgressed',
      'SessionMemberJoined',
      'JobCompleted',
    ]);
    expect(
      entries.map(({ state }) => [state.session?.memberCount, state.jobs.map((job) => job.status)]),
    ).toEqual([
      [0, []],
      [1, []],
      // The job joins the state as it was when added: submitted before, folded unseen.
      [1, ['submitted']],
      [1, ['running']],
      [2, ['running']],
      [2, ['completed']],
    ]);
    expect(entries.at(-1)?.state.jobs[0]?.sessionIds).toEqual(['s1']);
    expect(entries.at(-1)?.state.session?.jobIds).toEqual(['ja']);
  });

  it(`follows at most ${MAX_TIMELINE_JOBS} jobs and ends before the next one is added`, () => {
    const s = session('s-big');
    const streams = new Map<string, ReturnType<typeof recorded>[]>();
    const sessionEvents = [s.opened()];
    for (let index = 0; index <= MAX_TIMELINE_JOBS; index += 1) {
      const jobId = `jb${index}`;
      streams.set(jobStreamId(jobId), [jobEvents(jobId).requested]);
      sessionEvents.push(s.added(jobId));
    }
    const after = s.joined('u9');
    const { entries, truncated } = sessionTimelineOf('s-big', [...sessionEvents, after], streams);
    expect(truncated).toBe(true);
    expect(entries).toHaveLength(1 + MAX_TIMELINE_JOBS);
    expect(entries.at(-1)?.state.jobs).toHaveLength(MAX_TIMELINE_JOBS);
    expect(entries.map(({ event }) => event.position)).not.toContain(after.position);
  });
});
