import sharp from 'sharp';
import { pipelineFor, recipesFor } from '#src/pipeline/variantSettings.ts';

/**
 * The benchmark's baseline: the same variants from the same bytes (the same recipes as `makeVariants`, so
 * the same output bytes) with sharp alone: no download, no sniffing by file-type, no checksums, no store.
 * Whether to keep an animation's frames is read from sharp's own metadata. Images and animations only
 * (sharp cannot read video). The caller configures sharp (`configureSharp`) as the pipeline does.
 *
 * Answers the original as given, then the derived variants in `RECIPES` order.
 */
export const bareVariants = async (bytes: Buffer): Promise<Buffer[]> => {
  const { pages = 1, format } = await sharp(bytes).metadata();
  const animated = pages > 1 && (format === 'gif' || format === 'webp');
  const made = [bytes];
  for (const recipe of recipesFor(animated)) made.push(await pipelineFor(recipe, bytes, animated).toBuffer());
  return made;
};
