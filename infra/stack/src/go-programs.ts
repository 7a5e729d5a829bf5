import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A Go program kiln-stack builds from its module source into the tools folder. */
export interface GoProgram {
  title: string;
  binary: string;
  module: string;
  version: string;
  /** The package to build, relative to the module root. */
  packagePath: string;
  minGo: GoVersion;
  versionArgs: readonly string[];
  coldBuildTime: string;
  prepareSource?: (sourceDir: string) => Promise<void>;
}

export interface GoVersion {
  major: number;
  minor: number;
}

export const ferretdbProgram: GoProgram = {
  title: 'FerretDB',
  binary: 'ferretdb',
  module: 'github.com/FerretDB/FerretDB',
  version: 'v1.24.2',
  packagePath: './cmd/ferretdb',
  minGo: { major: 1, minor: 24 },
  versionArgs: ['--version'],
  coldBuildTime: 'about a minute',
  // FerretDB embeds its version from this file and panics at start when it is missing.
  prepareSource: (sourceDir) =>
    writeFile(join(sourceDir, 'build/version/version.txt'), `${ferretdbProgram.version}\n`),
};

export const k6Program: GoProgram = {
  title: 'k6',
  binary: 'k6',
  module: 'go.k6.io/k6',
  version: 'v1.8.1',
  packagePath: '.',
  minGo: { major: 1, minor: 25 },
  versionArgs: ['version'],
  coldBuildTime: 'over a minute',
};

export const goPrograms = [ferretdbProgram, k6Program] as const;

/** Reads `go version go1.26.8 linux/amd64`. */
export function parseGoVersion(output: string): GoVersion | undefined {
  const match = /\bgo(\d+)\.(\d+)/.exec(output);
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

export function isGoRecentEnough(found: GoVersion, needed: GoVersion): boolean {
  return found.major > needed.major || (found.major === needed.major && found.minor >= needed.minor);
}

export function missingGoMessage(program: GoProgram, found?: string): string {
  const needed = `Go ${program.minGo.major}.${program.minGo.minor} or later`;
  const what = found === undefined ? "no 'go' command was found on PATH" : `found ${found}`;
  return `${needed} is needed to build ${program.title} ${program.version} (${what}): install Go and put its bin folder on PATH, then run kiln-stack install again`;
}
