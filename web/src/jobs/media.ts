import type { Artifact } from '@kiln/contracts/job/events';
import type { JobView } from '@kiln/contracts/views';

/** Where the browser loads a job's file from: the media processor, with the browser's own session cookie. */
export const mediaPath = (
  mediaUrl: string,
  jobId: string,
  outputIndex: number,
  variant: Artifact['variant'],
) => `${mediaUrl}/v1/media/jobs/${encodeURIComponent(jobId)}/${outputIndex}/${variant}`;

/** The small picture of a job's first output: its thumbnail, or a video's poster. */
export const coverOf = (job: JobView): Artifact | undefined => {
  const first = job.artifacts.filter((artifact) => artifact.outputIndex === 0);
  return (
    first.find((artifact) => artifact.variant === 'thumbnail') ??
    first.find((artifact) => artifact.variant === 'poster')
  );
};
