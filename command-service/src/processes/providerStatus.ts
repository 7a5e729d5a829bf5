import type { JobFailureCode } from '@kiln/contracts/job/events';
import { jobStreamId } from '@kiln/contracts/streams';
import type { CommandContext, CommandHandler } from '#src/app/commandHandler.ts';
import { jobDecider } from '#src/domain/job/decide.ts';
import type { JobCommand } from '#src/domain/job/decide.ts';
import { alreadyDoneIsFine } from '#src/processes/effects.ts';
import { cleanLogLine } from '#src/providers/clientText.ts';
import type { ProviderStatus } from '#src/providers/port.ts';

/** What a person is told when a job fails: Kiln's words, never the provider's. */
export const failureMessages: Record<JobFailureCode, string> = {
  provider_rejected: 'the provider refused this request',
  provider_unavailable: 'the provider is unavailable right now; try again later',
  provider_timeout: 'the provider did not answer in time',
  provider_error: 'the provider ran into an error',
  content_filtered: 'the request or its result was blocked by a content filter',
  output_invalid: 'the result could not be read as an image or video',
  output_too_large: 'the result was larger than Kiln accepts',
  timed_out: 'the job took longer than its model allows',
  internal: 'something went wrong on our side',
};

const commandsFor = (provider: string, status: ProviderStatus): JobCommand[] => {
  switch (status.state) {
    case 'queued': {
      const log = cleanLogLine(status.logs.at(-1));
      return [
        {
          type: 'RecordProgress',
          data: {
            step: 'queued',
            progress: 0,
            ...(status.queuePosition !== undefined ? { queuePosition: status.queuePosition } : {}),
            ...(log ? { log } : {}),
          },
        },
      ];
    }
    case 'running': {
      const log = cleanLogLine(status.logs.at(-1));
      return [
        {
          type: 'RecordProgress',
          data: {
            step: status.step ?? 'generating',
            progress: status.progress ?? 0,
            ...(log ? { log } : {}),
          },
        },
      ];
    }
    case 'succeeded':
      return [
        {
          type: 'RecordSuccess',
          data: {
            provider,
            outputs: status.outputs.map((output, index) => ({
              index,
              url: output.url,
              ...(output.contentType ? { contentType: output.contentType } : {}),
            })),
          },
        },
      ];
    case 'failed':
      return [
        {
          type: 'FailJob',
          data: { code: status.code, message: failureMessages[status.code], retryable: status.retryable },
        },
      ];
    case 'canceled':
      return [
        { type: 'RequestCancel', data: { reason: 'canceled at the provider' } },
        { type: 'ConfirmCancel', data: { reason: 'canceled at the provider' } },
      ];
  }
};

/**
 * One job timeline from two sources: what polling finds and what webhooks say become the same job
 * commands. A report the job already has (a duplicate delivery, an older progress) decides nothing.
 */
export const applyProviderStatus = async (
  handle: CommandHandler,
  provider: string,
  jobId: string,
  status: ProviderStatus,
  context: CommandContext,
): Promise<void> => {
  for (const [index, command] of commandsFor(provider, status).entries()) {
    const keyed = context.idempotencyKey
      ? { ...context, idempotencyKey: `${context.idempotencyKey}/${index}` }
      : context;
    await alreadyDoneIsFine(() => handle(jobDecider, jobStreamId(jobId), command, keyed));
  }
};
