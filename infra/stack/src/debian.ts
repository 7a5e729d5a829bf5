import { StackError } from './errors.ts';
import type { Logger } from './log.ts';
import { runChecked } from './process.ts';
import { isRoot, which } from './system.ts';

let packageListsUpdated = false;

export function missingPackageMessage(what: string, debianPackage: string, why: string): string {
  return `${what} is not installed and ${why}: install the Debian package '${debianPackage}' (apt-get install ${debianPackage}) and run again`;
}

/** Installs a Debian package with apt-get when we are root; otherwise says exactly what to install. */
export async function installDebianPackage(debianPackage: string, what: string, log: Logger): Promise<void> {
  if (!isRoot())
    throw new StackError(missingPackageMessage(what, debianPackage, 'kiln-stack is not running as root'));
  const aptGet = await which('apt-get');
  if (aptGet === undefined)
    throw new StackError(missingPackageMessage(what, debianPackage, 'apt-get is not available'));
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!packageListsUpdated) {
    log('apt-get update (once, before installing from Debian)...');
    await runChecked('apt-get update', aptGet, ['update'], { env });
    packageListsUpdated = true;
  }
  log(`installing ${what} from Debian: apt-get install ${debianPackage}...`);
  await runChecked(
    `apt-get install ${debianPackage}`,
    aptGet,
    ['install', '-y', '--no-install-recommends', debianPackage],
    {
      env,
    },
  );
}
