import sharp, { type Sharp, type SharpOptions, type WebpOptions } from 'sharp';

/**
 * The one place the variants' settings live: the pipeline (`variants.ts`) and the benchmark's bare baseline
 * (`bareSharp.ts`) both build their sharp pipelines here, so they make the same bytes from the same input.
 */

/** More pixels than this (over all frames of an animation) is refused before decoding: a decompression bomb. */
export const MAX_INPUT_PIXELS = 50_000_000;

/** libvips threads per image; the processor runs a small fixed number of images at once on top of this. */
export const DEFAULT_SHARP_CONCURRENCY = 2;

/**
 * Every input is opened with these: the pixel limit, `failOn: 'error'` (a truncated or corrupt file is refused,
 * libvips' mere warnings are not) and EXIF orientation applied, so variants are the right way up.
 */
export const INPUT_OPTIONS = {
  limitInputPixels: MAX_INPUT_PIXELS,
  failOn: 'error',
  autoOrient: true,
} as const satisfies SharpOptions;

export type DerivedVariant = 'preview' | 'thumbnail' | 'poster';

export type VariantRecipe = {
  variant: DerivedVariant;
  /** Fits inside a square of this side, never enlarged; full size when absent. */
  maxSide?: number;
  /** An animation's variant keeps every frame; the others are made from the first frame. */
  keepsAnimation: boolean;
  animationsOnly: boolean;
  webp: WebpOptions;
};

/** The variants made from an image or an animation, beside the original kept as received. */
export const RECIPES: readonly VariantRecipe[] = [
  {
    variant: 'preview',
    maxSide: 1024,
    keepsAnimation: true,
    animationsOnly: false,
    webp: { quality: 80, effort: 4 },
  },
  {
    variant: 'thumbnail',
    maxSide: 256,
    keepsAnimation: false,
    animationsOnly: false,
    webp: { quality: 75, effort: 4 },
  },
  { variant: 'poster', keepsAnimation: false, animationsOnly: true, webp: { quality: 85, effort: 4 } },
];

export const VARIANT_CONTENT_TYPE = 'image/webp';
export const VARIANT_EXTENSION = 'webp';

/** The recipes that apply to an image (`animated: false`) or an animation. */
export const recipesFor = (animated: boolean): VariantRecipe[] =>
  RECIPES.filter((recipe) => animated || !recipe.animationsOnly);

/** The sharp pipeline that makes one variant from the input's bytes (metadata is not kept: sharp strips it). */
export const pipelineFor = (recipe: VariantRecipe, bytes: Buffer, animated: boolean): Sharp => {
  const image = sharp(bytes, { ...INPUT_OPTIONS, animated: animated && recipe.keepsAnimation });
  const sized =
    recipe.maxSide === undefined
      ? image
      : image.resize({
          width: recipe.maxSide,
          height: recipe.maxSide,
          fit: 'inside',
          withoutEnlargement: true,
        });
  return sized.webp(recipe.webp);
};
