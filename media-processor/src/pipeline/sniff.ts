import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import { failureFromSharp, invalidOutput, outputTooLarge } from '#src/pipeline/failures.ts';
import { gifIsWhole } from '#src/pipeline/gifBlocks.ts';
import { INPUT_OPTIONS, MAX_INPUT_PIXELS } from '#src/pipeline/variantSettings.ts';
import { videoDimensions } from '#src/pipeline/videoDimensions.ts';

export type MediaKind = 'image' | 'animation' | 'video';

/** What an output's bytes are, read from the bytes alone (never from its URL or declared type). */
export type SniffedMedia = {
  kind: MediaKind;
  contentType: string;
  extension: string;
  /** As displayed (EXIF orientation applied); an animation's frame size. */
  width: number;
  height: number;
  frames: number;
};

type Supported = { extension: string; container: 'image' | 'mp4' | 'webm' };

/** The types Kiln keeps. An APNG is kept as received, its variants made from its default image. */
const SUPPORTED: Readonly<Record<string, Supported>> = {
  'image/png': { extension: 'png', container: 'image' },
  'image/apng': { extension: 'png', container: 'image' },
  'image/jpeg': { extension: 'jpg', container: 'image' },
  'image/webp': { extension: 'webp', container: 'image' },
  'image/gif': { extension: 'gif', container: 'image' },
  'image/avif': { extension: 'avif', container: 'image' },
  'video/mp4': { extension: 'mp4', container: 'mp4' },
  'video/webm': { extension: 'webm', container: 'webm' },
};
const CAN_ANIMATE = new Set(['image/gif', 'image/webp']);

/**
 * Reads an output's type from its bytes (file-type), then its size from its header (sharp for images,
 * the container for videos, which sharp cannot decode). An image whose pixels over all its frames pass
 * MAX_INPUT_PIXELS is refused here, before anything is decoded. GIF and WebP with more than one frame are
 * animations. Anything else, a header that cannot be read, or a GIF cut short (which libvips would show as
 * a shorter animation) is `output_invalid`; other truncated images are refused when decoded (`failOn`).
 */
export const sniff = async (bytes: Buffer): Promise<SniffedMedia> => {
  const detected = await fileTypeFromBuffer(bytes);
  const supported = detected && SUPPORTED[detected.mime];
  if (!detected || !supported) {
    throw invalidOutput(
      `the output is ${detected ? detected.mime : 'of no known type'}, not a supported image, animation or video`,
    );
  }
  const { mime: contentType } = detected;
  const { extension, container } = supported;

  if (container !== 'image') {
    const size = videoDimensions(bytes, container);
    if (!size) throw invalidOutput(`the output is ${contentType} whose frame size cannot be read`);
    return { kind: 'video', contentType, extension, ...size, frames: 1 };
  }

  if (contentType === 'image/gif' && !gifIsWhole(bytes)) {
    throw invalidOutput('the output is a corrupt or truncated image/gif');
  }
  let metadata;
  try {
    metadata = await sharp(bytes, INPUT_OPTIONS).metadata();
  } catch (error) {
    throw failureFromSharp(error, contentType);
  }
  const { width, height } = metadata.autoOrient;
  const kind = (metadata.pages ?? 1) > 1 && CAN_ANIMATE.has(contentType) ? 'animation' : 'image';
  const frames = kind === 'animation' ? (metadata.pages ?? 1) : 1;
  if (width * height * frames > MAX_INPUT_PIXELS) {
    throw outputTooLarge(
      `the output has ${frames} frame(s) of ${width}×${height} pixels, more than ${MAX_INPUT_PIXELS} in all`,
    );
  }
  return { kind, contentType, extension, width, height, frames };
};
