import { join } from 'node:path';

/** This file sits in `<repo>/load-tests/src`. */
export const loadTestsDir = join(import.meta.dirname, '..');
export const repoRoot = join(loadTestsDir, '..');
