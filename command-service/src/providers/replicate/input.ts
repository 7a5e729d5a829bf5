import { COMMON_RATIOS, nearestAspectRatio } from '#src/providers/aspectRatio.ts';
import type { ProviderJobRequest } from '#src/providers/port.ts';

/**
 * A Kiln request as a Replicate model's `input`. Inputs are model-specific; these are the names the
 * FLUX family and most video models on Replicate use (prompt, num_outputs, aspect_ratio, seed, image).
 * A model that takes other names needs its own mapping here.
 */
export const replicateInputOf = (job: ProviderJobRequest): Record<string, unknown> => {
  const { request, inputs } = job;
  const common = {
    prompt: request.prompt,
    aspect_ratio: nearestAspectRatio(request.width, request.height, COMMON_RATIOS),
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    ...(request.negativePrompt ? { negative_prompt: request.negativePrompt } : {}),
    ...(inputs[0] ? { image: inputs[0] } : {}),
  };
  return request.kind === 'image'
    ? { ...common, num_outputs: request.count, output_format: 'png' }
    : { ...common, duration: request.durationSeconds, fps: request.fps };
};
