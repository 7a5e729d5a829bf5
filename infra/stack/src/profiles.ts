import { StackError } from './errors.ts';

export const HOST = '127.0.0.1';

export const profileNames = ['dev', 'test', 'stacktest'] as const;
export type ProfileName = (typeof profileNames)[number];
export const defaultProfile: ProfileName = 'dev';

export interface ProfilePorts {
  postgres: number;
  redis: number;
  ferretdb: number;
  ferretdbDebug: number;
}

/** Fixed per profile, so tests and tools can compute the URLs without asking the stack. */
const portsByProfile: Record<ProfileName, ProfilePorts> = {
  dev: { postgres: 54320, redis: 63790, ferretdb: 27027, ferretdbDebug: 27028 },
  test: { postgres: 54330, redis: 63800, ferretdb: 27037, ferretdbDebug: 27038 },
  stacktest: { postgres: 54340, redis: 63810, ferretdb: 27047, ferretdbDebug: 27048 },
};

export const postgresUser = 'postgres';
export const eventStoreDatabase = 'kiln';
export const ferretdbDatabase = 'ferretdb';

export interface StackUrls {
  eventStoreUrl: string;
  mongoUrl: string;
  redisUrl: string;
}

export function isProfileName(value: string): value is ProfileName {
  return (profileNames as readonly string[]).includes(value);
}

export function toProfileName(value: string): ProfileName {
  if (isProfileName(value)) return value;
  throw new StackError(`unknown profile '${value}': use one of ${profileNames.join(', ')}`);
}

export function profilePorts(profile: ProfileName): ProfilePorts {
  return portsByProfile[profile];
}

export function postgresUrl(profile: ProfileName, database: string): string {
  return `postgres://${postgresUser}@${HOST}:${profilePorts(profile).postgres}/${database}`;
}

export function profileUrls(profile: ProfileName): StackUrls {
  const ports = profilePorts(profile);
  return {
    eventStoreUrl: postgresUrl(profile, eventStoreDatabase),
    mongoUrl: `mongodb://${HOST}:${ports.ferretdb}/`,
    redisUrl: `redis://${HOST}:${ports.redis}`,
  };
}

/** `KEY=value` lines a shell can source (`set -a; . <(kiln-stack env); set +a`) or a .env loader can read. */
export function envLines(urls: StackUrls): string[] {
  return [`EVENTSTORE_URL=${urls.eventStoreUrl}`, `MONGO_URL=${urls.mongoUrl}`, `REDIS_URL=${urls.redisUrl}`];
}
