import { describe, expect, it } from 'vitest';
import { StackError } from './errors.ts';
import { envLines, profileNames, profilePorts, profileUrls, toProfileName } from './profiles.ts';

describe('profiles', () => {
  it('gives the test profile its fixed URLs', () => {
    expect(profileUrls('test')).toEqual({
      eventStoreUrl: 'postgres://postgres@127.0.0.1:54330/kiln',
      mongoUrl: 'mongodb://127.0.0.1:27037/',
      redisUrl: 'redis://127.0.0.1:63800',
    });
  });

  it('gives dev and stacktest their own ports', () => {
    expect(profilePorts('dev')).toEqual({
      postgres: 54320,
      redis: 63790,
      ferretdb: 27027,
      ferretdbDebug: 27028,
    });
    expect(profilePorts('stacktest')).toEqual({
      postgres: 54340,
      redis: 63810,
      ferretdb: 27047,
      ferretdbDebug: 27048,
    });
  });

  it('never lets two profiles share a port', () => {
    const ports = profileNames.flatMap((name) => Object.values<number>({ ...profilePorts(name) }));
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('prints shell-sourceable env lines', () => {
    expect(envLines(profileUrls('dev'))).toEqual([
      'EVENTSTORE_URL=postgres://postgres@127.0.0.1:54320/kiln',
      'MONGO_URL=mongodb://127.0.0.1:27027/',
      'REDIS_URL=redis://127.0.0.1:63790',
    ]);
  });

  it('rejects an unknown profile with the list of known ones', () => {
    expect(() => toProfileName('prod')).toThrow(StackError);
    expect(() => toProfileName('prod')).toThrow("unknown profile 'prod': use one of dev, test, stacktest");
  });
});
