import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { bareVariants } from '#src/pipeline/bareSharp.ts';
import { sniff } from '#src/pipeline/sniff.ts';
import {
  makeAnimatedGif,
  makeAnimatedWebp,
  makeJpeg,
  makeMp4,
  makePng,
  makeRotatedJpeg,
} from '#src/pipeline/testing/media.ts';
import { configureSharp, makeVariants, type Variant } from '#src/pipeline/variants.ts';

const variantsOf = async (bytes: Buffer) => makeVariants(bytes, await sniff(bytes));
const byName = (variants: Variant[]) =>
  Object.fromEntries(variants.map((variant) => [variant.variant, variant]));
const summary = (variants: Variant[]) =>
  variants.map(({ variant, contentType, width, height }) => ({ variant, contentType, width, height }));

describe('makeVariants', () => {
  beforeAll(() => configureSharp({ concurrency: 2 }));

  it('makes a PNG its original, a 1024 px preview and a 256 px thumbnail in WebP', async () => {
    const png = await makePng(1600, 1200);
    const variants = await variantsOf(png);
    expect(summary(variants)).toEqual([
      { variant: 'original', contentType: 'image/png', width: 1600, height: 1200 },
      { variant: 'preview', contentType: 'image/webp', width: 1024, height: 768 },
      { variant: 'thumbnail', contentType: 'image/webp', width: 256, height: 192 },
    ]);
    expect(byName(variants)['original']?.bytes.equals(png)).toBe(true);
    expect(variants.map((variant) => variant.extension)).toEqual(['png', 'webp', 'webp']);
  });

  it('never enlarges: a JPEG smaller than the preview keeps its size there', async () => {
    expect(summary(await variantsOf(await makeJpeg(800, 450)))).toEqual([
      { variant: 'original', contentType: 'image/jpeg', width: 800, height: 450 },
      { variant: 'preview', contentType: 'image/webp', width: 800, height: 450 },
      { variant: 'thumbnail', contentType: 'image/webp', width: 256, height: 144 },
    ]);
  });

  it('turns an image the way its EXIF orientation says', async () => {
    const variants = byName(await variantsOf(await makeRotatedJpeg(400, 200)));
    expect(variants['original']).toMatchObject({ width: 200, height: 400 });
    expect(variants['thumbnail']).toMatchObject({ width: 128, height: 256 });
    expect((await sharp(variants['preview']?.bytes).metadata()).orientation).toBeUndefined();
  });

  it('keeps an animated WebP animated in its preview; its thumbnail and full-size poster are its first frame', async () => {
    const animation = await makeAnimatedWebp(1200, 800, 4);
    const variants = byName(await variantsOf(animation));
    expect(summary(Object.values(variants))).toEqual([
      { variant: 'original', contentType: 'image/webp', width: 1200, height: 800 },
      { variant: 'preview', contentType: 'image/webp', width: 1024, height: 683 },
      { variant: 'thumbnail', contentType: 'image/webp', width: 256, height: 171 },
      { variant: 'poster', contentType: 'image/webp', width: 1200, height: 800 },
    ]);
    const preview = await sharp(variants['preview']?.bytes).metadata();
    expect({ pages: preview.pages, delay: preview.delay, loop: preview.loop }).toEqual({
      pages: 4,
      delay: [100, 100, 100, 100],
      loop: 0,
    });
    expect((await sharp(variants['thumbnail']?.bytes).metadata()).pages ?? 1).toBe(1);
    expect((await sharp(variants['poster']?.bytes).metadata()).pages ?? 1).toBe(1);

    // The poster is the first frame: it matches that frame decoded by sharp, up to WebP's loss.
    const firstFrame = await sharp(animation).raw().toBuffer();
    const poster = await sharp(variants['poster']?.bytes).raw().toBuffer();
    const lastFrame = await sharp(animation, { page: 3 }).raw().toBuffer();
    const distance = (a: Buffer, b: Buffer) =>
      a.reduce((sum, value, at) => sum + Math.abs(value - (b[at] ?? 0)), 0);
    expect(distance(poster, firstFrame)).toBeLessThan(distance(poster, lastFrame) / 4);
  });

  it('makes an animated GIF an animated WebP preview', async () => {
    const variants = byName(await variantsOf(await makeAnimatedGif(300, 200, 3)));
    expect(variants['original']?.contentType).toBe('image/gif');
    expect((await sharp(variants['preview']?.bytes).metadata()).pages).toBe(3);
    expect(variants['poster']).toMatchObject({ width: 300, height: 200 });
  });

  it('keeps a video as its original only (sharp cannot decode video, so no poster)', async () => {
    const video = makeMp4(640, 360);
    expect(summary(await variantsOf(video))).toEqual([
      { variant: 'original', contentType: 'video/mp4', width: 640, height: 360 },
    ]);
  });

  it('describes each file truly: size, checksum, format and dimensions as sharp reads them back', async () => {
    for (const variant of await variantsOf(await makeAnimatedWebp(500, 300, 3))) {
      expect(variant.size).toBe(variant.bytes.length);
      expect(variant.sha256).toBe(createHash('sha256').update(variant.bytes).digest('hex'));
      const metadata = await sharp(variant.bytes).metadata();
      expect(`image/${metadata.format}`).toBe(variant.contentType);
      expect({ width: metadata.width, height: metadata.height }).toEqual({
        width: variant.width,
        height: variant.height,
      });
      expect(metadata.exif).toBeUndefined();
    }
  });

  it('is deterministic: the same input twice gives the same bytes and checksums, whatever the threads', async () => {
    for (const input of [
      await makePng(1500, 900),
      await makeJpeg(640, 480),
      await makeAnimatedWebp(700, 500, 5),
    ]) {
      configureSharp({ concurrency: 1 });
      const first = await variantsOf(input);
      configureSharp({ concurrency: 4 });
      const second = await variantsOf(Buffer.from(input));
      configureSharp({ concurrency: 2 });
      expect(second.map((variant) => variant.sha256)).toEqual(first.map((variant) => variant.sha256));
      second.forEach((variant, at) => expect(variant.bytes.equals(first[at]!.bytes)).toBe(true));
    }
  });

  it('makes the very bytes the bare sharp baseline makes (one set of settings for both)', async () => {
    for (const input of [await makePng(1300, 700), await makeAnimatedWebp(400, 400, 3)]) {
      const bare = await bareVariants(input);
      const piped = await variantsOf(input);
      expect(bare.map((bytes) => createHash('sha256').update(bytes).digest('hex'))).toEqual(
        piped.map((variant) => variant.sha256),
      );
    }
  });
});
