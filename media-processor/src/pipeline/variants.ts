import { createHash } from 'node:crypto';
import type { ArtifactVariant } from '@kiln/contracts/job/events';
import sharp from 'sharp';
import { failureFromSharp } from '#src/pipeline/failures.ts';
import type { SniffedMedia } from '#src/pipeline/sniff.ts';
import {
  DEFAULT_SHARP_CONCURRENCY,
  pipelineFor,
  recipesFor,
  VARIANT_CONTENT_TYPE,
  VARIANT_EXTENSION,
} from '#src/pipeline/variantSettings.ts';

/** One file made from an output, with what its artifact says about it. */
export type Variant = {
  variant: ArtifactVariant;
  bytes: Buffer;
  contentType: string;
  extension: string;
  width: number;
  height: number;
  size: number;
  /** Hex SHA-256 of `bytes`. */
  sha256: string;
};

let configured = false;

/**
 * sharp's process-wide settings: no operation cache (it would keep decoded images between jobs) and at most
 * `concurrency` libvips threads per image. Called by the service at start; the first `makeVariants` calls it
 * with the defaults otherwise.
 */
export const configureSharp = ({
  concurrency = DEFAULT_SHARP_CONCURRENCY,
}: { concurrency?: number } = {}) => {
  sharp.cache(false);
  sharp.concurrency(concurrency);
  configured = true;
};

export const sha256Of = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const variantOf = (
  variant: ArtifactVariant,
  bytes: Buffer,
  described: Pick<Variant, 'contentType' | 'extension' | 'width' | 'height'>,
): Variant => ({ variant, bytes, ...described, size: bytes.length, sha256: sha256Of(bytes) });

/**
 * The variants of one sniffed output: the original as received, then (images and animations) the preview
 * and thumbnail, and (animations) the first-frame poster, made one after another so that only one decode
 * is under way per output. A video is kept as its original only: sharp has no video decoder, so no poster.
 * The same bytes always give the same variants, byte for byte. A decode that fails (truncated, corrupt,
 * past the pixel limit) is a MediaFailure.
 */
export const makeVariants = async (bytes: Buffer, media: SniffedMedia): Promise<Variant[]> => {
  if (!configured) configureSharp();
  const { contentType, extension, width, height } = media;
  const original = variantOf('original', bytes, { contentType, extension, width, height });
  if (media.kind === 'video') return [original];

  const animated = media.kind === 'animation';
  const variants = [original];
  for (const recipe of recipesFor(animated)) {
    let made;
    try {
      made = await pipelineFor(recipe, bytes, animated).toBuffer({ resolveWithObject: true });
    } catch (error) {
      throw failureFromSharp(error, contentType);
    }
    variants.push(
      variantOf(recipe.variant, made.data, {
        contentType: VARIANT_CONTENT_TYPE,
        extension: VARIANT_EXTENSION,
        width: made.info.width,
        height: made.info.pageHeight ?? made.info.height,
      }),
    );
  }
  return variants;
};
