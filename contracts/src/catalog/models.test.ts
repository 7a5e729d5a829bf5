import { describe, expect, it } from 'vitest';
import { findModel, modelCatalog, priceOf, requestProblems } from '#src/catalog/models.ts';
import type { ImageRequest, VideoRequest } from '#src/job/request.ts';

const image: ImageRequest = {
  kind: 'image',
  modelId: 'kiln-local-image',
  prompt: 'a kiln',
  width: 1024,
  height: 1024,
  count: 2,
};
const video: VideoRequest = {
  kind: 'video',
  modelId: 'kiln-local-animation',
  prompt: 'a kiln',
  width: 512,
  height: 512,
  durationSeconds: 4,
  fps: 12,
};

const model = (id: string) => {
  const found = findModel(id);
  if (!found) throw new Error(`no model ${id} in the catalog`);
  return found;
};

describe('model catalog', () => {
  it('has unique ids', () => {
    expect(new Set(modelCatalog.map((m) => m.id)).size).toBe(modelCatalog.length);
  });

  it('prices images per image plus per started megapixel', () => {
    // 1024x1024 is 1.05 MP, so 2 started megapixels: 2 images x (1 + 2 x 1)
    expect(priceOf(model('kiln-local-image'), image)).toBe(6);
    expect(priceOf(model('kiln-local-image'), { ...image, width: 512, height: 512, count: 1 })).toBe(2);
  });

  it('prices videos per second', () => {
    expect(priceOf(model('kiln-local-animation'), video)).toBe(8);
  });

  it('refuses to price a request of the other kind', () => {
    expect(() => priceOf(model('kiln-local-image'), video)).toThrow(RangeError);
  });

  it('names every limit a request breaks', () => {
    expect(requestProblems(model('kiln-local-image'), image, 0)).toEqual([]);
    expect(requestProblems(model('kiln-local-image'), { ...image, width: 4096, count: 8 }, 1)).toEqual([
      'width is at most 2048',
      'count is at most 4',
      'kiln-local-image takes at most 0 input files',
    ]);
    expect(requestProblems(model('kiln-local-animation'), { ...video, durationSeconds: 30 }, 0)).toEqual([
      'duration is at most 10 seconds',
    ]);
  });
});
