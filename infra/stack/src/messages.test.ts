import { describe, expect, it } from 'vitest';
import { missingPackageMessage } from './debian.ts';
import { ferretdbArguments } from './ferretdb.ts';
import {
  ferretdbProgram,
  isGoRecentEnough,
  k6Program,
  missingGoMessage,
  parseGoVersion,
} from './go-programs.ts';
import { portTakenMessage } from './lifecycle.ts';
import { postgresSettings } from './postgres-cluster.ts';
import { profilePorts } from './profiles.ts';
import { redisArguments } from './redis.ts';

describe('messages for what is missing', () => {
  it('names the Debian package to install', () => {
    expect(
      missingPackageMessage('Redis (redis-server)', 'redis-server', 'kiln-stack is not running as root'),
    ).toBe(
      "Redis (redis-server) is not installed and kiln-stack is not running as root: install the Debian package 'redis-server' (apt-get install redis-server) and run again",
    );
  });

  it('says which Go is needed when none is found', () => {
    expect(missingGoMessage(ferretdbProgram)).toBe(
      "Go 1.24 or later is needed to build FerretDB v1.24.2 (no 'go' command was found on PATH): install Go and put its bin folder on PATH, then run kiln-stack install again",
    );
  });

  it('says which Go is needed when the one found is too old', () => {
    expect(missingGoMessage(k6Program, 'go version go1.19.8 linux/amd64 at /usr/bin/go')).toContain(
      'Go 1.25 or later is needed to build k6 v1.8.1 (found go version go1.19.8',
    );
  });

  it('names the port and the profile when a port is taken', () => {
    expect(portTakenMessage('redis', 63790, 'dev')).toMatch(
      /^port 63790 is already taken by another process, so redis of profile 'dev' cannot listen on 127\.0\.0\.1:63790/,
    );
  });
});

describe('go versions', () => {
  it('reads go version output', () => {
    expect(parseGoVersion('go version go1.26.8 linux/amd64')).toEqual({ major: 1, minor: 26 });
    expect(parseGoVersion('bash: go: not found')).toBeUndefined();
  });

  it('compares against the minimum', () => {
    expect(isGoRecentEnough({ major: 1, minor: 25 }, { major: 1, minor: 25 })).toBe(true);
    expect(isGoRecentEnough({ major: 1, minor: 24 }, { major: 1, minor: 25 })).toBe(false);
    expect(isGoRecentEnough({ major: 2, minor: 0 }, { major: 1, minor: 25 })).toBe(true);
  });
});

describe('server settings', () => {
  it('keeps PostgreSQL on loopback, durable, with room for 200 connections', () => {
    const settings = postgresSettings(54320, '/data/dev/postgres');
    expect(settings).toContain("listen_addresses = '127.0.0.1'");
    expect(settings).toContain("unix_socket_directories = '/data/dev/postgres'");
    expect(settings).toContain('max_connections = 200');
    expect(settings).toContain('fsync = on');
  });

  it('binds Redis to loopback with its files in its own folder', () => {
    const args = redisArguments(63790, { dir: '/d', pidFile: '/d/redis.pid', logFile: '/d/redis.log' }).join(
      ' ',
    );
    expect(args).toContain('--bind 127.0.0.1 --port 63790');
    expect(args).toContain('--daemonize yes --pidfile /d/redis.pid --logfile /d/redis.log --dir /d');
  });

  it('runs FerretDB on the profile PostgreSQL, on loopback, without telemetry', () => {
    expect(ferretdbArguments('test', profilePorts('test'), '/d')).toEqual([
      '--handler=postgresql',
      '--postgresql-url=postgres://postgres@127.0.0.1:54330/ferretdb?pool_max_conns=100',
      '--listen-addr=127.0.0.1:27037',
      '--debug-addr=127.0.0.1:27038',
      '--telemetry=disable',
      '--log-level=warn',
      '--state-dir=/d',
    ]);
  });
});
