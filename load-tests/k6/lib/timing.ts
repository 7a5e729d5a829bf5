// Timing goals (latency percentiles, an arrival rate kept up) are what `npm run load` measures. The
// smoke run inside `npm test` shares two cores with every other workspace's tests: there it proves the
// scripts and the correctness thresholds (nothing missed, duplicated, refused or mis-billed), not speed.
import { config } from './config.ts';

export const timingThresholds = (thresholds: Record<string, string[]>): Record<string, string[]> =>
  config.profileName === 'full' ? thresholds : {};
