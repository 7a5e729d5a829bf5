// How big each scenario is. `full` is `npm run load` (about four minutes on a 2-core machine, services
// included); `smoke` is the few seconds per scenario that `npm test` runs to prove the scripts and their
// thresholds work. Pure data: the runner reads it too (for its progress bars).

export type ProfileName = 'smoke' | 'full';
export const scenarioNames = ['commands', 'fanout', 'replay', 'audit'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export type Profile = {
  commands: {
    /** Users the job creations are spread over, round robin (each stays under 5 creations a minute). */
    users: number;
    jobsPerSecond: number;
    readsPerSecond: number;
    seconds: number;
  };
  fanout: {
    sessions: number;
    /** Members of each session, each watching it on its own WebSocket; they also make its jobs. */
    watchersPerSession: number;
    jobsPerSecond: number;
    seconds: number;
    /** How long after the last job a watcher waits for its session's jobs to finish. */
    settleSeconds: number;
  };
  replay: {
    sessions: number;
    /** Members of each session, each one a client of the storm. */
    clientsPerSession: number;
    /** Jobs made in each session's history (by distinct members; at most 50, the timeline's limit). */
    jobsPerSession: number;
    /** Times each member leaves and joins again in the history (two events each). */
    churnPerMember: number;
    /** Storms: every client reconnects at once, this many times. */
    rounds: number;
    roundGapSeconds: number;
    /** The hub's resident memory may grow this much over its level before the storms. */
    maxRssGrowthMiB: number;
  };
  audit: {
    users: number;
    jobsPerSecond: number;
    seconds: number;
    auditEverySeconds: number;
  };
};

export const profiles: Record<ProfileName, Profile> = {
  smoke: {
    commands: { users: 6, jobsPerSecond: 2, readsPerSecond: 3, seconds: 6 },
    fanout: { sessions: 2, watchersPerSession: 3, jobsPerSecond: 1, seconds: 6, settleSeconds: 30 },
    replay: {
      sessions: 1,
      clientsPerSession: 6,
      jobsPerSession: 2,
      churnPerMember: 1,
      rounds: 2,
      roundGapSeconds: 3,
      maxRssGrowthMiB: 128,
    },
    audit: { users: 3, jobsPerSecond: 1, seconds: 6, auditEverySeconds: 2 },
  },
  full: {
    commands: { users: 120, jobsPerSecond: 5, readsPerSecond: 15, seconds: 45 },
    fanout: { sessions: 8, watchersPerSession: 20, jobsPerSecond: 4, seconds: 30, settleSeconds: 45 },
    replay: {
      sessions: 4,
      clientsPerSession: 40,
      jobsPerSession: 12,
      churnPerMember: 2,
      rounds: 3,
      roundGapSeconds: 8,
      maxRssGrowthMiB: 256,
    },
    audit: { users: 30, jobsPerSecond: 2, seconds: 25, auditEverySeconds: 3 },
  },
};

export const isProfileName = (value: string): value is ProfileName => value === 'smoke' || value === 'full';
export const isScenarioName = (value: string): value is ScenarioName =>
  (scenarioNames as readonly string[]).includes(value);

/** About how long a scenario's load runs, set-up and settling aside (for progress bars). */
export const loadSeconds = (profile: Profile, scenario: ScenarioName): number => {
  switch (scenario) {
    case 'commands':
      return profile.commands.seconds;
    case 'fanout':
      return profile.fanout.seconds + 3;
    case 'replay':
      return profile.replay.rounds * profile.replay.roundGapSeconds + 3;
    case 'audit':
      return profile.audit.seconds;
  }
};
