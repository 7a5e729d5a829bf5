import { z } from 'zod';
import { ProviderName } from '#src/provider/events.ts';
import type { GenerationRequest } from '#src/job/request.ts';

export const ModelKind = z.enum(['image', 'video']);
export type ModelKind = z.infer<typeof ModelKind>;

export const ModelCapability = z.enum([
  'text-to-image',
  'image-to-image',
  'text-to-video',
  'image-to-video',
  'seed',
]);

const ImagePricing = z.strictObject({ perImage: z.int().positive(), perMegapixel: z.int().nonnegative() });
const VideoPricing = z.strictObject({ perSecond: z.int().positive() });

const ModelBase = {
  id: z.string().regex(/^[a-z0-9][a-z0-9./-]{0,99}$/),
  title: z.string().min(1),
  provider: ProviderName,
  /** The provider's own name for the model (a Replicate version, a fal endpoint...). */
  providerModel: z.string().min(1),
  capabilities: z.array(ModelCapability).min(1),
  maxInputFiles: z.int().min(0).max(14),
  /** After this long without an outcome, the job times out and its credits are released. */
  timeoutSeconds: z.int().positive(),
};

export const ImageModel = z.strictObject({
  ...ModelBase,
  kind: z.literal('image'),
  pricing: ImagePricing,
  limits: z.strictObject({
    maxWidth: z.int().positive(),
    maxHeight: z.int().positive(),
    maxCount: z.int().positive(),
  }),
});

export const VideoModel = z.strictObject({
  ...ModelBase,
  kind: z.literal('video'),
  pricing: VideoPricing,
  limits: z.strictObject({
    maxWidth: z.int().positive(),
    maxHeight: z.int().positive(),
    maxDurationSeconds: z.int().positive(),
    maxFps: z.int().positive(),
  }),
});

export const CatalogModel = z.discriminatedUnion('kind', [ImageModel, VideoModel]);
export type CatalogModel = z.infer<typeof CatalogModel>;

export const modelCatalog: readonly CatalogModel[] = z.array(CatalogModel).parse([
  {
    id: 'kiln-local-image',
    title: 'Kiln local image',
    kind: 'image',
    provider: 'local',
    providerModel: 'local/image',
    capabilities: ['text-to-image', 'seed'],
    maxInputFiles: 0,
    timeoutSeconds: 120,
    pricing: { perImage: 1, perMegapixel: 1 },
    limits: { maxWidth: 2048, maxHeight: 2048, maxCount: 4 },
  },
  {
    id: 'kiln-local-animation',
    title: 'Kiln local animation',
    kind: 'video',
    provider: 'local',
    providerModel: 'local/animation',
    capabilities: ['text-to-video', 'seed'],
    maxInputFiles: 0,
    timeoutSeconds: 300,
    pricing: { perSecond: 2 },
    limits: { maxWidth: 1024, maxHeight: 1024, maxDurationSeconds: 10, maxFps: 24 },
  },
  {
    id: 'flux-schnell',
    title: 'FLUX.1 [schnell] on Replicate',
    kind: 'image',
    provider: 'replicate',
    providerModel: 'black-forest-labs/flux-schnell',
    capabilities: ['text-to-image', 'seed'],
    maxInputFiles: 0,
    timeoutSeconds: 600,
    pricing: { perImage: 3, perMegapixel: 1 },
    limits: { maxWidth: 1440, maxHeight: 1440, maxCount: 4 },
  },
  {
    id: 'flux-dev',
    title: 'FLUX.1 [dev] on fal',
    kind: 'image',
    provider: 'fal',
    providerModel: 'fal-ai/flux/dev',
    capabilities: ['text-to-image', 'image-to-image', 'seed'],
    maxInputFiles: 14,
    timeoutSeconds: 600,
    pricing: { perImage: 5, perMegapixel: 2 },
    limits: { maxWidth: 2048, maxHeight: 2048, maxCount: 4 },
  },
  {
    id: 'kling-video',
    title: 'Kling video on fal',
    kind: 'video',
    provider: 'fal',
    providerModel: 'fal-ai/kling-video/v2/master/text-to-video',
    capabilities: ['text-to-video', 'image-to-video'],
    maxInputFiles: 1,
    timeoutSeconds: 1800,
    pricing: { perSecond: 20 },
    limits: { maxWidth: 1920, maxHeight: 1080, maxDurationSeconds: 10, maxFps: 30 },
  },
]);

export const findModel = (modelId: string): CatalogModel | undefined =>
  modelCatalog.find((model) => model.id === modelId);

/**
 * The credits a request costs, from the catalog alone. Images: per image, plus per started megapixel
 * of each image. Videos: per started second.
 */
export const priceOf = (model: CatalogModel, request: GenerationRequest): number => {
  if (model.kind === 'image' && request.kind === 'image') {
    const megapixels = Math.ceil((request.width * request.height) / 1_000_000);
    return request.count * (model.pricing.perImage + megapixels * model.pricing.perMegapixel);
  }
  if (model.kind === 'video' && request.kind === 'video') {
    return request.durationSeconds * model.pricing.perSecond;
  }
  throw new RangeError(`model ${model.id} makes ${model.kind}, not ${request.kind}`);
};

/** Everything in a request that the model cannot do, in words a person can act on. Empty when it fits. */
export const requestProblems = (
  model: CatalogModel,
  request: GenerationRequest,
  inputFileCount: number,
): string[] => {
  const problems: string[] = [];
  if (model.kind !== request.kind) problems.push(`${model.id} makes ${model.kind}s, not ${request.kind}s`);
  if (request.width > model.limits.maxWidth) problems.push(`width is at most ${model.limits.maxWidth}`);
  if (request.height > model.limits.maxHeight) problems.push(`height is at most ${model.limits.maxHeight}`);
  if (model.kind === 'image' && request.kind === 'image' && request.count > model.limits.maxCount) {
    problems.push(`count is at most ${model.limits.maxCount}`);
  }
  if (model.kind === 'video' && request.kind === 'video') {
    if (request.durationSeconds > model.limits.maxDurationSeconds) {
      problems.push(`duration is at most ${model.limits.maxDurationSeconds} seconds`);
    }
    if (request.fps > model.limits.maxFps) problems.push(`fps is at most ${model.limits.maxFps}`);
  }
  if (inputFileCount > model.maxInputFiles)
    problems.push(`${model.id} takes at most ${model.maxInputFiles} input files`);
  return problems;
};
