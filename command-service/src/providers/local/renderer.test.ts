import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { frameCountOf, MAX_FRAMES, renderAnimation, renderImages } from '#src/providers/local/renderer.ts';

const spec = { prompt: 'a kiln at dusk, glowing', seed: 42, width: 320, height: 200, count: 2 };

describe('the local renderer', () => {
  it('paints the same bytes for the same prompt and seed, and other bytes for another seed', async () => {
    const [first, again, other] = await Promise.all([
      renderImages(spec),
      renderImages(spec),
      renderImages({ ...spec, seed: 43 }),
    ]);
    expect(first.map((file, index) => file.data.equals(again[index]!.data))).toEqual([true, true]);
    expect(first[0]!.data.equals(other[0]!.data)).toBe(false);
    expect(first[0]!.data.equals(first[1]!.data)).toBe(false); // each output has its own derived seed
  });

  it('makes count PNGs of exactly the size asked, caption or not', async () => {
    const files = await renderImages({ ...spec, width: 257, height: 129, count: 3, caption: false });
    expect(files).toHaveLength(3);
    for (const file of files) {
      const metadata = await sharp(file.data).metadata();
      expect([metadata.format, metadata.width, metadata.height]).toEqual(['png', 257, 129]);
      expect(file.contentType).toBe('image/png');
    }
  });

  it('makes an animated WebP of duration × fps frames of the size asked, the same on every run', async () => {
    const animation = { prompt: 'sparks', seed: 7, width: 96, height: 64, durationSeconds: 2, fps: 6 };
    const [file, again] = await Promise.all([renderAnimation(animation), renderAnimation(animation)]);
    const metadata = await sharp(file.data, { animated: true }).metadata();
    expect(metadata.format).toBe('webp');
    expect(metadata.pages).toBe(12);
    expect([metadata.width, metadata.pageHeight]).toEqual([96, 64]);
    expect(metadata.delay?.reduce((sum, ms) => sum + ms, 0)).toBeCloseTo(2000, -2);
    expect(file.data.equals(again.data)).toBe(true);
  });

  it('caps the frames, by count and by pixels, keeping the duration', async () => {
    expect(frameCountOf({ width: 64, height: 64, durationSeconds: 10, fps: 24 })).toBe(MAX_FRAMES);
    expect(frameCountOf({ width: 1024, height: 1024, durationSeconds: 10, fps: 24 })).toBe(12);
    const file = await renderAnimation({
      prompt: 'long',
      seed: 1,
      width: 64,
      height: 64,
      durationSeconds: 5,
      fps: 24,
    });
    const metadata = await sharp(file.data, { animated: true }).metadata();
    expect(metadata.pages).toBe(MAX_FRAMES);
    expect(metadata.delay?.reduce((sum, ms) => sum + ms, 0)).toBeCloseTo(5000, -2);
  });
});
