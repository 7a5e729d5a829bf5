import { describe, expect, it } from 'vitest';
import { nextFormKey } from '../src/formKey.ts';

describe('the idempotency key a form holds', () => {
  const shown = nextFormKey(undefined, { locationKey: 'l1', refusedKey: undefined, serverKey: 's1' });

  it('starts with the key of the page’s data', () => {
    expect(shown.key).toBe('s1');
  });

  it('keeps its key when the page’s data reloads live, with a new key from the server', () => {
    const reloaded = nextFormKey(shown, { locationKey: 'l1', refusedKey: undefined, serverKey: 's2' });
    expect(reloaded).toBe(shown);
  });

  it('takes the new key after a navigation (the redirect after a success)', () => {
    expect(nextFormKey(shown, { locationKey: 'l2', refusedKey: undefined, serverKey: 's3' }).key).toBe('s3');
  });

  it('takes the key a refusal handed back, and keeps it while the data reloads', () => {
    const refused = nextFormKey(shown, { locationKey: 'l1', refusedKey: 'r1', serverKey: 's1' });
    expect(refused.key).toBe('r1');
    expect(nextFormKey(refused, { locationKey: 'l1', refusedKey: 'r1', serverKey: 's4' })).toBe(refused);
    // A reload that no longer carries the refusal's data does not start the form afresh either.
    expect(nextFormKey(refused, { locationKey: 'l1', refusedKey: undefined, serverKey: 's5' })).toBe(refused);
    expect(nextFormKey(refused, { locationKey: 'l1', refusedKey: 'r2', serverKey: 's5' }).key).toBe('r2');
  });
});
