// The whole of Kiln for the studio's end-to-end tests: a command and a query service on free ports (their
// testing harnesses, on the test stack's PostgreSQL, Redis and FerretDB), a realtime hub and a media
// processor in their own processes, the production build of the web app, and Debian's Chromium.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import {
  freePort,
  startCommandService,
  type CommandServiceUnderTest,
} from '@kiln/command-service/testing/harness';
import { mongoUrlWithDatabase, startQueryService } from '@kiln/query-service/testing/harness';
import { testEnv } from '@kiln/stack/testing';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const screenshots = join(webDir, 'screenshots');
export const bin = (name: string) => join(webDir, '..', 'node_modules', '.bin', name);
const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const run = (command: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { cwd: webDir, env: { ...process.env, ...env }, stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });

/** The production server (`react-router-serve` on the build), as `npm start` runs it. */
const startWeb = async (port: number, env: Record<string, string>) => {
  const child: ChildProcess = spawn(bin('react-router-serve'), ['./build/server/index.js'], {
    cwd: webDir,
    env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), NODE_ENV: 'production' },
    stdio: 'pipe',
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries += 1) {
    try {
      await fetch(`${url}/sign-in`);
      break;
    } catch {
      if (tries > 100 || child.exitCode !== null) throw new Error(`the web app did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
};

/** A real realtime hub in its own process (`node src/main.ts`); it can be stopped, killed and started again. */
const startHub = async (env: Record<string, string>) => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    const running = spawn(process.execPath, ['src/main.ts'], {
      cwd: join(webDir, '..', 'realtime-hub'),
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        EVENTSTORE_URL: testEnv().eventStoreUrl,
        REDIS_URL: testEnv().redisUrl,
        LOG_LEVEL: 'error',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = running;
    running.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let tries = 0; ; tries += 1) {
      if ((await fetch(`${url}/readyz`).catch(() => undefined))?.ok) return;
      if (tries > 600 || running.exitCode !== null) throw new Error(`the hub did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return resolve();
      running.once('exit', () => resolve());
      running.kill(signal);
    });
  await start();
  return {
    url,
    start,
    /** A graceful stop, as a deploy does it. */
    stop: () => stop('SIGTERM'),
    /** kill -9: every WebSocket to it drops without a word. */
    kill: () => stop('SIGKILL'),
  };
};

/**
 * A real media processor in its own process (`node src/main.ts`), reading the services' event store and
 * users, storing the variants in a temporary folder: it makes the thumbnails the job page shows.
 */
const startMedia = async (env: Record<string, string>) => {
  const port = await freePort();
  const store = await mkdtemp(join(tmpdir(), 'kiln-web-media-'));
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: join(webDir, '..', 'media-processor'),
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      EVENTSTORE_URL: testEnv().eventStoreUrl,
      MEDIA_SCHEMA: `media_web_${randomUUID().replaceAll('-', '').slice(0, 12)}`,
      MEDIA_STORE: store,
      LOG_LEVEL: 'error',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries += 1) {
    if ((await fetch(`${url}/readyz`).catch(() => undefined))?.ok) break;
    if (tries > 300 || child.exitCode !== null)
      throw new Error(`the media processor did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    stop: async () => {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      await rm(store, { recursive: true, force: true });
    },
  };
};

export const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

/**
 * Builds the web app once for every end-to-end file (`react-router build`, as `npm start` does), in
 * production mode: vitest sets NODE_ENV=test, which would build React's development bundle instead.
 */
export const buildWeb = () => run(bin('react-router'), ['build'], { NODE_ENV: 'production' });

export type StudioStack = Awaited<ReturnType<typeof startStudioStack>>;

/**
 * Every service, wired as `npm start` wires them, with the process managers on: the local provider
 * really renders each job (slowly enough that a page sees it run), the media processor stores its
 * variants, the hub streams its events.
 */
export const startStudioStack = async (commandEnv: Record<string, string> = {}) => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: install Debian's chromium package or set CHROMIUM_PATH`);
  }
  await mkdir(screenshots, { recursive: true });
  const command = await startCommandService({
    PROCESS_MANAGERS: 'true',
    LOCAL_PROVIDER_DELAY_MS: '2500',
    POLL_EVERY_MS: '150',
    ...commandEnv,
  });
  const query = await startQueryService(command.schemas);
  const webPort = await freePort();
  const hub = await startHub({
    EVENTSTORE_SCHEMA: command.schemas.eventStoreSchema,
    IDENTITY_SCHEMA: command.schemas.identitySchema,
    MONGO_URL: mongoUrlWithDatabase(query.database),
    REDIS_PREFIX: `web-${randomUUID().slice(0, 8)}`,
    // A killed hub's watchers drop out of presence after this (a test kills one).
    PRESENCE_TTL_SECONDS: '3',
    CORS_ORIGINS: `http://127.0.0.1:${webPort},http://localhost:${webPort}`,
  });
  const media = await startMedia({
    EVENTSTORE_SCHEMA: command.schemas.eventStoreSchema,
    IDENTITY_SCHEMA: command.schemas.identitySchema,
  });
  const web = await startWeb(webPort, {
    COMMAND_URL: command.url,
    QUERY_URL: query.url,
    HUB_URL: hub.url,
    MEDIA_URL: media.url,
  });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
  return {
    command,
    query,
    hub,
    media,
    web,
    browser,
    stop: async () => {
      await browser.close();
      await web.stop();
      await hub.stop();
      await media.stop();
      await query.stop();
      await command.stop();
    },
  };
};

export type Person = {
  name: string;
  email: string;
  password: string;
  context: BrowserContext;
  page: Page;
  /** Page errors seen so far: a test ends by expecting none. */
  errors: string[];
  accountId: string;
  cookie: string;
};

/** Someone new, signed up through the studio's own form, in a browser context of their own. */
export const signUp = async (
  stack: StudioStack,
  name = `ana-${randomUUID().slice(0, 8)}`,
): Promise<Person> => {
  const context = await stack.browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const email = `${name}@kiln.test`;
  const password = `pw-${randomUUID()}`;
  await page.goto(`${stack.web.url}/sign-up`);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${stack.web.url}/studio`);
  const session = (await context.cookies()).find((cookie) => cookie.name === 'kiln_session');
  const cookie = `kiln_session=${session?.value ?? ''}`;
  const me = await stack.command.call('GET', '/v1/accounts/me', { cookie });
  expect(me.status).toBe(200);
  return {
    name,
    email,
    password,
    context,
    page,
    errors,
    accountId: me.body.data.accountId as string,
    cookie,
  };
};

/** The seed admin, signed in through the studio's own form. */
export const signInAsAdmin = async (stack: StudioStack, admin: { email: string; password: string }) => {
  const context = await stack.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.web.url}/sign-in`);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${stack.web.url}/studio`);
  return { context, page };
};

export type { CommandServiceUnderTest };
