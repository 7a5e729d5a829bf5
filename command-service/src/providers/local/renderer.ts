import sharp from 'sharp';
import { derivedSeed, sceneSvg } from '#src/providers/local/composition.ts';

/** The local provider's renderer: real PNGs and animated WebPs, the same bytes for the same request. */

export type ImageSpec = {
  prompt: string;
  seed: number;
  width: number;
  height: number;
  count: number;
  /** Writes the prompt across the bottom of the picture (default true). */
  caption?: boolean;
};

export type AnimationSpec = {
  prompt: string;
  seed: number;
  width: number;
  height: number;
  durationSeconds: number;
  fps: number;
  caption?: boolean;
};

/** At most this many frames, however long or fluid the animation asked for. */
export const MAX_FRAMES = 48;
/** And at most this many pixels over all frames (48 frames of 512×512), so memory stays bounded. */
export const MAX_ANIMATION_PIXELS = 48 * 512 * 512;

export type RenderedFile = { data: Buffer; contentType: string; extension: string };

/** `count` PNGs of exactly width×height, each from its own seed derived from the request's. */
export const renderImages = async (spec: ImageSpec): Promise<RenderedFile[]> =>
  Promise.all(
    Array.from({ length: spec.count }, async (_, index) => {
      const scene = { ...spec, seed: derivedSeed(spec.seed, index), caption: spec.caption ?? true };
      const data = await sharp(sceneSvg(scene)).png({ compressionLevel: 9 }).toBuffer();
      return { data, contentType: 'image/png', extension: 'png' };
    }),
  );

/** How many frames an animation gets: duration × fps, within both caps, at least one. */
export const frameCountOf = (
  spec: Pick<AnimationSpec, 'width' | 'height' | 'durationSeconds' | 'fps'>,
): number => {
  const byPixels = Math.floor(MAX_ANIMATION_PIXELS / (spec.width * spec.height));
  return Math.max(1, Math.min(spec.durationSeconds * spec.fps, MAX_FRAMES, byPixels));
};

/**
 * An animated WebP: the scene's shapes orbit and its colours turn over `frameCountOf(spec)` frames that
 * together last `durationSeconds` (fewer frames than asked each last longer), looping forever.
 */
export const renderAnimation = async (spec: AnimationSpec): Promise<RenderedFile> => {
  const frames = frameCountOf(spec);
  const scene = { ...spec, seed: derivedSeed(spec.seed, 0), caption: spec.caption ?? true };
  const stills = await Promise.all(
    Array.from({ length: frames }, (_, frame) =>
      sharp(sceneSvg(scene, frame / frames))
        .png()
        .toBuffer(),
    ),
  );
  const delay = Math.round((spec.durationSeconds * 1000) / frames);
  const data = await sharp(stills, { join: { animated: true } })
    .webp({ delay: Array.from({ length: frames }, () => delay), loop: 0, quality: 80, effort: 2 })
    .toBuffer();
  return { data, contentType: 'image/webp', extension: 'webp' };
};
