import { describe, expect, it } from 'vitest';
import { chosenFiles, inputFilesProblem, MAX_FILE_BYTES } from '../src/studio/inputFiles.ts';

const file = (name: string, size: number) => ({ name, size });

describe('input files in the browser and on the server', () => {
  it('takes up to what the model allows, each of at most 10 MB', () => {
    expect(inputFilesProblem([file('a.png', 10), file('b.png', MAX_FILE_BYTES)], 14)).toBeNull();
    expect(inputFilesProblem([], 0)).toBeNull();
  });

  it('says what is wrong: too many, too large, empty, or none allowed', () => {
    expect(inputFilesProblem([file('a.png', 1), file('b.png', 1)], 1)).toBe(
      'This model takes at most 1 input file; you chose 2.',
    );
    expect(
      inputFilesProblem(
        Array.from({ length: 15 }, (_, n) => file(`${n}.png`, 1)),
        20,
      ),
    ).toBe('This model takes at most 14 input files; you chose 15.');
    expect(inputFilesProblem([file('huge.png', MAX_FILE_BYTES + 1)], 14)).toBe(
      'huge.png is larger than 10 MB.',
    );
    expect(inputFilesProblem([file('nothing.png', 0)], 14)).toBe('nothing.png is empty.');
    expect(inputFilesProblem([file('a.png', 1)], 0)).toBe('This model takes no input files.');
  });

  it('reads the chosen files of a form, leaving out an input left empty', () => {
    const form = new FormData();
    form.append('inputs', new File([new Uint8Array(3)], 'a.png', { type: 'image/png' }));
    form.append('inputs', new File([], ''));
    form.append('prompt', 'text');
    expect(chosenFiles(form, 'inputs').map((chosen) => [chosen.name, chosen.size])).toEqual([['a.png', 3]]);
    expect(chosenFiles(form, 'prompt')).toEqual([]);
  });
});
