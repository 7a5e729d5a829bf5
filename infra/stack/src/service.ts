import type { Logger } from './log.ts';
import type { ProfileName, ProfilePorts } from './profiles.ts';
import type { LocatedTools, Tools } from './tools.ts';

export type ServiceName = 'postgres' | 'redis' | 'ferretdb';

export interface ServiceContext<ToolSet = Tools> {
  profile: ProfileName;
  ports: ProfilePorts;
  /** The profile's data folder, e.g. <repo>/.kiln/dev */
  dir: string;
  tools: ToolSet;
  log: Logger;
}

export type StopContext = ServiceContext<LocatedTools>;

export interface ServiceStatus {
  name: ServiceName;
  address: string;
  pid: number | undefined;
}

export interface StartedService {
  name: ServiceName;
  address: string;
  pid: number;
  /** True when it was already running and answering, so nothing was started. */
  reused: boolean;
  logFile: string;
}

export interface Service {
  name: ServiceName;
  /** Every port it listens on. */
  ports: (ports: ProfilePorts) => number[];
  status: (context: StopContext) => Promise<ServiceStatus>;
  start: (context: ServiceContext) => Promise<StartedService>;
  /** Resolves true when it was running and is now stopped, false when it was not running. */
  stop: (context: StopContext) => Promise<boolean>;
}
