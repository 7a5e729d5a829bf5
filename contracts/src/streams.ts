import { z } from 'zod';
import { EntityId } from '#src/envelope.ts';

/** The four stream families of the design: `<family>-<id>`. */
export const StreamFamily = z.enum(['job', 'billing', 'provider', 'session']);
export type StreamFamily = z.infer<typeof StreamFamily>;

export const StreamId = z
  .string()
  .regex(
    /^(job|billing|provider|session)-[A-Za-z0-9_-]{1,64}$/,
    'a stream id is <job|billing|provider|session>-<id>',
  );
export type StreamId = z.infer<typeof StreamId>;

const streamIdOf =
  (family: StreamFamily) =>
  (id: string): StreamId =>
    StreamId.parse(`${family}-${EntityId.parse(id)}`);

export const jobStreamId = streamIdOf('job');
export const billingStreamId = streamIdOf('billing');
export const providerStreamId = streamIdOf('provider');
export const sessionStreamId = streamIdOf('session');

export const parseStreamId = (streamId: string): { family: StreamFamily; id: string } => {
  const parsed = StreamId.parse(streamId);
  const separator = parsed.indexOf('-');
  return { family: StreamFamily.parse(parsed.slice(0, separator)), id: parsed.slice(separator + 1) };
};
