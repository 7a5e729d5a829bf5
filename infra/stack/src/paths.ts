import { resolve, join } from 'node:path';
import type { ProfileName } from './profiles.ts';

export interface PathOptions {
  /** Where each profile's data folder lives; `KILN_DATA_DIR` otherwise, else `<repo>/.kiln`. */
  dataDir?: string | undefined;
  /** Where the Go-built tools and Go's caches live; `KILN_TOOLS_DIR` otherwise, else `<repo>/.tools`. */
  toolsDir?: string | undefined;
}

export interface StackPaths {
  dataRoot: string;
  toolsDir: string;
}

/** This file sits in `<repo>/infra/stack/src`. */
export const repoRoot = resolve(import.meta.dirname, '../../..');

export function resolvePaths(options: PathOptions = {}, env: NodeJS.ProcessEnv = process.env): StackPaths {
  return {
    dataRoot: resolve(options.dataDir ?? nonEmpty(env['KILN_DATA_DIR']) ?? join(repoRoot, '.kiln')),
    toolsDir: resolve(options.toolsDir ?? nonEmpty(env['KILN_TOOLS_DIR']) ?? join(repoRoot, '.tools')),
  };
}

export function profileDir(paths: StackPaths, profile: ProfileName): string {
  return join(paths.dataRoot, profile);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
