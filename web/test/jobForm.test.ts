import { describe, expect, it } from 'vitest';
import { findModel, type CatalogModel } from '@kiln/contracts/catalog';
import { initialValues, jobCost, readJobForm, type JobFormValues } from '../src/studio/jobForm.ts';

const model = (id: string): CatalogModel => {
  const found = findModel(id);
  if (!found) throw new Error(`no model ${id} in the catalog`);
  return found;
};

const form = (values: Partial<JobFormValues>) => {
  const data = new FormData();
  const all: JobFormValues = { ...initialValues('image', 'kiln-local-image'), prompt: 'a kiln', ...values };
  for (const [name, value] of Object.entries(all)) data.set(name, value);
  return data;
};

const video = (values: Partial<JobFormValues>) =>
  form({ kind: 'video', modelId: 'kiln-local-animation', ...values });

describe('the job form', () => {
  it('reads an image request the command service takes', () => {
    expect(readJobForm(form({ count: '2', seed: '42' })).request).toEqual({
      kind: 'image',
      modelId: 'kiln-local-image',
      prompt: 'a kiln',
      width: 512,
      height: 512,
      count: 2,
      seed: 42,
    });
    expect(readJobForm(form({})).request).not.toHaveProperty('seed');
  });

  it('reads a video request, without the image fields', () => {
    expect(readJobForm(video({ durationSeconds: '3', fps: '24' })).request).toEqual({
      kind: 'video',
      modelId: 'kiln-local-animation',
      prompt: 'a kiln',
      width: 512,
      height: 512,
      durationSeconds: 3,
      fps: 24,
    });
  });

  it('is an image request unless it says video', () => {
    expect(readJobForm(form({ kind: 'sculpture' as 'image' })).request.kind).toBe('image');
  });

  it('sends a half-typed number as not a number, for the service to name', () => {
    expect(readJobForm(form({ width: '5x' })).request.width).toBeNaN();
    expect(readJobForm(form({ width: '1.5' })).request.width).toBeNaN();
  });

  it('costs what the catalog says before submitting', () => {
    // 1 per image + 1 per started megapixel: 1024×1024 is 2 megapixels started, so 3 per image.
    const local = model('kiln-local-image');
    expect(jobCost(local, readJobForm(form({ width: '1024', height: '1024', count: '2' })).form)).toBe(6);
    expect(jobCost(model('flux-schnell'), readJobForm(form({ count: '1' })).form)).toBe(4);
    // 2 per second.
    expect(jobCost(model('kiln-local-animation'), readJobForm(video({ durationSeconds: '3' })).form)).toBe(6);
  });

  it('shows no cost for what the model does not take', () => {
    const local = model('kiln-local-image');
    expect(jobCost(local, readJobForm(form({ width: '4096' })).form)).toBeNull();
    expect(jobCost(local, readJobForm(form({ count: '5' })).form)).toBeNull();
    expect(jobCost(local, readJobForm(form({ height: '' })).form)).toBeNull();
    expect(jobCost(local, readJobForm(form({ width: '10' })).form)).toBeNull();
    expect(jobCost(local, readJobForm(video({ modelId: 'kiln-local-image' })).form)).toBeNull();
    const animation = model('kiln-local-animation');
    expect(jobCost(animation, readJobForm(video({ durationSeconds: '11' })).form)).toBeNull();
    expect(jobCost(animation, readJobForm(video({ fps: '0' })).form)).toBeNull();
  });
});
