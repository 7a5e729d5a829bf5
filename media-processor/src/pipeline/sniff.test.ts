import sharp, { type AvailableFormatInfo } from 'sharp';
import { describe, expect, it } from 'vitest';
import { MediaFailure } from '#src/pipeline/failures.ts';
import { sniff } from '#src/pipeline/sniff.ts';
import {
  makeAnimatedGif,
  makeAnimatedWebp,
  makeAvif,
  makeJpeg,
  makeMp4,
  makePng,
  makeRotatedJpeg,
  makeWebm,
} from '#src/pipeline/testing/media.ts';

const refusal = async (bytes: Buffer): Promise<MediaFailure> => {
  const error: unknown = await sniff(bytes).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MediaFailure);
  return error as MediaFailure;
};

describe('sniff', () => {
  it.each([
    ['a PNG', () => makePng(320, 200), { kind: 'image', contentType: 'image/png', extension: 'png' }],
    ['a JPEG', () => makeJpeg(320, 200), { kind: 'image', contentType: 'image/jpeg', extension: 'jpg' }],
    ['an AVIF', () => makeAvif(320, 200), { kind: 'image', contentType: 'image/avif', extension: 'avif' }],
    [
      'a still WebP',
      () =>
        sharp({ create: { width: 320, height: 200, channels: 3, background: 'teal' } })
          .webp()
          .toBuffer(),
      { kind: 'image', contentType: 'image/webp', extension: 'webp', frames: 1 },
    ],
    [
      'an animated WebP',
      () => makeAnimatedWebp(320, 200, 3),
      { kind: 'animation', contentType: 'image/webp', frames: 3 },
    ],
    [
      'an animated GIF',
      () => makeAnimatedGif(320, 200, 4),
      { kind: 'animation', contentType: 'image/gif', frames: 4 },
    ],
  ])('knows %s by its bytes, with its size', async (_name, make, expected) => {
    expect(await sniff(await make())).toMatchObject({ ...expected, width: 320, height: 200 });
  });

  it('gives an image its size as shown, EXIF orientation applied', async () => {
    expect(await sniff(await makeRotatedJpeg(400, 200))).toMatchObject({ width: 200, height: 400 });
  });

  it('reads a video frame size from its container: MP4 (first track with a size) and WebM', async () => {
    expect(await sniff(makeMp4(640, 360))).toEqual({
      kind: 'video',
      contentType: 'video/mp4',
      extension: 'mp4',
      width: 640,
      height: 360,
      frames: 1,
    });
    expect(await sniff(makeWebm(1280, 720))).toMatchObject({
      kind: 'video',
      contentType: 'video/webm',
      width: 1280,
    });
  });

  it('has no way to decode video with sharp: none of its loaders reads MP4 or WebM, so videos get no poster', () => {
    const formats: AvailableFormatInfo[] = Object.values(sharp.format);
    const loaders = formats.filter((format) => format.input.buffer);
    expect(loaders.map((format) => format.id).filter((id) => /magick|ffmpeg|video/.test(id))).toEqual([]);
    const suffixes = loaders.flatMap((format) => format.input.fileSuffix ?? []);
    expect(suffixes.filter((suffix) => ['.mp4', '.webm', '.mov'].includes(suffix))).toEqual([]);
  });

  it.each([
    ['text', Buffer.from('this is not an image, it is a sentence\n'.repeat(20))],
    ['nothing', Buffer.alloc(0)],
    [
      'an SVG (sharp could render it, Kiln does not take it)',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
    ],
    ['a PDF', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n')],
    [
      'a PNG signature and no header',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    ],
    ['an MP4 without a video track size', makeMp4(0, 0)],
  ])('refuses %s as output_invalid', async (_name, bytes) => {
    expect(await refusal(bytes)).toMatchObject({ code: 'output_invalid', retryable: false });
  });

  it('refuses a TIFF, which it knows but Kiln does not keep', async () => {
    const tiff = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } })
      .tiff()
      .toBuffer();
    const failure = await refusal(tiff);
    expect(failure.code).toBe('output_invalid');
    expect(failure.message).toContain('image/tiff');
  });

  it('refuses an animation whose frames together pass the pixel limit, before decoding any', async () => {
    // 52 frames of 1000×1000 are 52 MP: each frame is fine, all of them are not. A square moves from frame
    // to frame, so that the encoder cannot merge them.
    const square = await sharp({ create: { width: 64, height: 64, channels: 3, background: 'white' } })
      .png()
      .toBuffer();
    const frames = await Promise.all(
      Array.from({ length: 52 }, (_, frame) =>
        sharp({ create: { width: 1000, height: 1000, channels: 3, background: 'navy' } })
          .composite([{ input: square, left: frame * 15, top: frame * 15 }])
          .png({ compressionLevel: 1 })
          .toBuffer(),
      ),
    );
    const long = await sharp(frames, { join: { animated: true } })
      .webp({ effort: 0, quality: 10 })
      .toBuffer();
    expect((await sharp(long).metadata()).pages).toBe(52);
    expect(await refusal(long)).toMatchObject({ code: 'output_too_large' });
  });
});
