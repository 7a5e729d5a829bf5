import type { Artifact, ArtifactVariant, JobOutput } from '@kiln/contracts/job/events';
import { download, type DownloadOptions } from '#src/pipeline/download.ts';
import { invalidOutput, MediaFailure } from '#src/pipeline/failures.ts';
import { sniff } from '#src/pipeline/sniff.ts';
import { makeVariants, type Variant } from '#src/pipeline/variants.ts';
import type { MediaStore } from '#src/storage/mediaStore.ts';

/** Runs the making of one output's variants (decode, resize, encode) within the processor's bound. */
export type MakingSlot = <Result>(make: () => Promise<Result>) => Promise<Result>;

export type StoreArtifactsInput = {
  jobId: string;
  outputs: readonly Pick<JobOutput, 'index' | 'url'>[];
  store: MediaStore;
  download: DownloadOptions;
  /** The processor's bound on images being made at once; downloads and stores happen outside it. */
  making?: MakingSlot;
};

const unbounded: MakingSlot = (make) => make();

/** Where a variant is stored: the same key every time the same job is processed. */
export const storageKeyOf = (
  jobId: string,
  outputIndex: number,
  variant: ArtifactVariant,
  extension: string,
) => `jobs/${jobId}/${outputIndex}/${variant}.${extension}`;

export const artifactIdOf = (jobId: string, outputIndex: number, variant: ArtifactVariant) =>
  `${jobId}-${outputIndex}-${variant}`;

/** Downloads, sniffs and makes the variants of one output; its failures name the output by its index. */
const variantsOf = async (
  output: Pick<JobOutput, 'index' | 'url'>,
  options: DownloadOptions,
  making: MakingSlot,
) => {
  try {
    const { bytes } = await download(output.url, options);
    const media = await sniff(bytes);
    return await making(() => makeVariants(bytes, media));
  } catch (error) {
    if (!(error instanceof MediaFailure)) throw error;
    throw new MediaFailure(error.code, `output ${output.index}: ${error.message}`, {
      retryable: error.retryable,
      cause: error,
    });
  }
};

const artifactOf = (jobId: string, outputIndex: number, variant: Variant, storageKey: string): Artifact => ({
  artifactId: artifactIdOf(jobId, outputIndex, variant.variant),
  outputIndex,
  variant: variant.variant,
  storageKey,
  contentType: variant.contentType,
  size: variant.size,
  width: variant.width,
  height: variant.height,
  sha256: variant.sha256,
});

/**
 * Makes and stores the artifacts of a succeeded job's outputs, in the order of their indexes, one output
 * at a time: only one output's bytes and variants are held at once (its variants are stored together). Keys and artifact ids are derived from
 * the job, the output index and the variant, and the variants are deterministic, so processing the same
 * completion again writes the same files (each put atomic) and answers the same artifacts.
 *
 * Throws a MediaFailure for an output that cannot be had or kept (see failures.ts), after removing the
 * files already stored for the job when the failure is for good; store errors are thrown as they are.
 */
export const storeArtifacts = async (input: StoreArtifactsInput): Promise<Artifact[]> => {
  const outputs = [...input.outputs].sort((a, b) => a.index - b.index);
  const repeated = outputs.find((output, at) => at > 0 && outputs[at - 1]?.index === output.index);
  if (repeated) throw invalidOutput(`two outputs have the index ${repeated.index}`);

  const artifacts: Artifact[] = [];
  try {
    for (const output of outputs) {
      const variants = await variantsOf(output, input.download, input.making ?? unbounded);
      const stored = await Promise.all(
        variants.map(async (variant) => {
          const key = storageKeyOf(input.jobId, output.index, variant.variant, variant.extension);
          await input.store.put(key, variant.bytes, variant.contentType);
          return artifactOf(input.jobId, output.index, variant, key);
        }),
      );
      artifacts.push(...stored);
    }
  } catch (error) {
    // The job fails for good: the files of its earlier outputs would be kept for nothing.
    if (error instanceof MediaFailure && !error.retryable) {
      await Promise.allSettled(artifacts.map((artifact) => input.store.delete(artifact.storageKey)));
    }
    throw error;
  }
  return artifacts;
};
