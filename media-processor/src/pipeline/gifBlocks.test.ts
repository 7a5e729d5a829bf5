import { describe, expect, it } from 'vitest';
import { gifIsWhole } from '#src/pipeline/gifBlocks.ts';
import { makeAnimatedGif } from '#src/pipeline/testing/media.ts';

describe('gifIsWhole', () => {
  it('takes a whole GIF, and one missing only its trailer byte', async () => {
    const gif = await makeAnimatedGif(200, 100, 3);
    expect(gif.at(-1)).toBe(0x3b);
    expect(gifIsWhole(gif)).toBe(true);
    expect(gifIsWhole(gif.subarray(0, gif.length - 1))).toBe(true);
  });

  it('refuses a GIF cut anywhere inside its blocks', async () => {
    const gif = await makeAnimatedGif(200, 100, 3);
    const cuts = [0, 6, 12, 13, 20, 100, gif.length >> 1, gif.length - 2, gif.length - 10];
    expect(cuts.filter((length) => gifIsWhole(gif.subarray(0, length)))).toEqual([]);
  });

  it('refuses a block it does not know', async () => {
    const gif = await makeAnimatedGif(50, 50, 2);
    const corrupt = Buffer.from(gif);
    corrupt[gif.length - 1] = 0x42; // where the trailer was: neither a block nor the end
    expect(gifIsWhole(Buffer.concat([corrupt, Buffer.from([0x3b])]))).toBe(false);
  });
});
