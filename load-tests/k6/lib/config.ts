// What a scenario is pointed at, from its environment (the runner sets these; so can anyone running k6 by
// hand against another deployment).
import { isProfileName, profiles, type Profile, type ProfileName } from './profiles.ts';

const required = (name: string): string => {
  const value = __ENV[name];
  if (!value) throw new Error(`set ${name} (see load-tests/README.md)`);
  return value;
};

const profileName: ProfileName = isProfileName(__ENV['KILN_LOAD_PROFILE'] ?? '')
  ? (__ENV['KILN_LOAD_PROFILE'] as ProfileName)
  : 'full';

export const config = {
  commandUrl: required('KILN_COMMAND_URL').replace(/\/$/, ''),
  queryUrl: required('KILN_QUERY_URL').replace(/\/$/, ''),
  hubUrl: required('KILN_HUB_URL').replace(/\/$/, ''),
  /** An admin's API token: grants credits, reads every job and runs the audit. */
  adminToken: required('KILN_ADMIN_TOKEN'),
  /** The hub's Prometheus endpoint, for its memory; empty when the deployment does not expose it. */
  hubMetricsUrl: __ENV['KILN_HUB_METRICS_URL'] ?? `${required('KILN_HUB_URL').replace(/\/$/, '')}/metrics`,
  /** Names this run's users (emails must be new on every run). */
  runId: __ENV['KILN_RUN_ID'] ?? String(Date.now()),
  profileName,
  /**
   * A fault the client itself makes, to show the thresholds catch it: `drop-event` (the first watching
   * client of fan-out and replay ignores one event it receives).
   */
  fault: __ENV['KILN_FAULT'] ?? '',
};

export const profile: Profile = profiles[profileName];
