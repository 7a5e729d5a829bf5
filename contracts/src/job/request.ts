import { z } from 'zod';

const Prompt = z.string().trim().min(1, 'a prompt is required').max(4000);
const Seed = z
  .int()
  .nonnegative()
  .max(2 ** 32 - 1);
const Pixels = z.int().min(64).max(4096);

export const ImageRequest = z.strictObject({
  kind: z.literal('image'),
  modelId: z.string().min(1).max(100),
  prompt: Prompt,
  negativePrompt: z.string().max(4000).optional(),
  width: Pixels,
  height: Pixels,
  count: z.int().min(1).max(8),
  seed: Seed.optional(),
});
export type ImageRequest = z.infer<typeof ImageRequest>;

export const VideoRequest = z.strictObject({
  kind: z.literal('video'),
  modelId: z.string().min(1).max(100),
  prompt: Prompt,
  negativePrompt: z.string().max(4000).optional(),
  width: Pixels,
  height: Pixels,
  durationSeconds: z.int().min(1).max(60),
  fps: z.int().min(1).max(60),
  seed: Seed.optional(),
});
export type VideoRequest = z.infer<typeof VideoRequest>;

/** What someone asks a model to make. The price is never part of it: Kiln computes it from the catalog. */
export const GenerationRequest = z.discriminatedUnion('kind', [ImageRequest, VideoRequest]);
export type GenerationRequest = z.infer<typeof GenerationRequest>;

/** An uploaded input file (a reference image, say), already stored and checked by its bytes. */
export const InputFile = z.strictObject({
  fileId: z.string().min(1).max(64),
  contentType: z.enum(['image/png', 'image/jpeg', 'image/webp', 'image/gif']),
  size: z
    .int()
    .positive()
    .max(10 * 1024 * 1024),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type InputFile = z.infer<typeof InputFile>;

export const MAX_INPUT_FILES = 14;
