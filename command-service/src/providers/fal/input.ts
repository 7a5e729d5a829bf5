import { nearestAspectRatio } from '#src/providers/aspectRatio.ts';
import type { ProviderJobRequest } from '#src/providers/port.ts';

const VIDEO_RATIOS = ['16:9', '9:16', '1:1'] as const;

/**
 * A Kiln request as a fal model's input. Inputs are model-specific; these follow fal's FLUX endpoints
 * (prompt, image_size, num_images, seed, enable_safety_checker) and Kling's (prompt, duration "5"|"10",
 * aspect_ratio), with the first input image as `image_url`.
 */
export const falInputOf = (job: ProviderJobRequest): Record<string, unknown> => {
  const { request, inputs } = job;
  const common = {
    prompt: request.prompt,
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    ...(request.negativePrompt ? { negative_prompt: request.negativePrompt } : {}),
    ...(inputs[0] ? { image_url: inputs[0] } : {}),
  };
  if (request.kind === 'image') {
    return {
      ...common,
      image_size: { width: request.width, height: request.height },
      num_images: request.count,
      output_format: 'png',
      enable_safety_checker: true,
    };
  }
  return {
    ...common,
    duration: request.durationSeconds <= 5 ? '5' : '10',
    aspect_ratio: nearestAspectRatio(request.width, request.height, VIDEO_RATIOS),
  };
};
