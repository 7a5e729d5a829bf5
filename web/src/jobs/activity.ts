// What a job's or a session's page lists as it happens, and its timeline: one event in words.
import type { DeliveredEvent } from '@kiln/contracts/realtime';

const percent = (value: unknown) => (typeof value === 'number' ? ` (${Math.round(value * 100)}%)` : '');
const text = (value: unknown, fallback: string) =>
  typeof value === 'string' && value !== '' ? value : fallback;

/** One event of a job as a person reads it: "rendering (40%)", "sent to local", "artifacts stored". */
export const activityText = (event: Pick<DeliveredEvent, 'type' | 'data'>): string => {
  const data = event.data;
  switch (event.type) {
    case 'JobRequested':
      return 'requested';
    case 'JobProviderSubmitted':
      return `sent to ${text(data['provider'], 'the provider')}`;
    case 'JobProgressed':
      return `${text(data['step'], 'working')}${percent(data['progress'])}`;
    case 'JobProviderAttemptFailed':
      return `attempt ${typeof data['attempt'] === 'number' ? data['attempt'] : '?'} failed${data['retryable'] === true ? '; trying again' : ''}`;
    case 'JobSucceeded':
      return 'the provider delivered';
    case 'JobFailed':
      return `failed: ${text(data['message'], 'no reason given')}`;
    case 'JobCancelRequested':
      return 'cancel asked for';
    case 'JobCanceled':
      return 'canceled';
    case 'JobTimedOut':
      return 'timed out';
    case 'JobArtifactsStored':
      return 'files stored';
    case 'JobCompleted':
      return 'completed';
    case 'SessionOpened':
      return `session “${text(data['title'], 'untitled')}” opened`;
    case 'SessionMemberInvited':
      return 'an invite link was made';
    case 'SessionMemberJoined':
      return `${text(data['displayName'], 'someone')} joined`;
    case 'SessionMemberLeft':
      return 'a member left';
    case 'SessionJobAdded':
      return 'a job was added';
    default:
      return event.type;
  }
};
