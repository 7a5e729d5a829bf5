import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line, whatever object they sit in. */
export const secretKeys = [
  'password',
  'passwordHash',
  'token',
  'secret',
  'sessionToken',
  'apiKey',
  'accessToken',
  'refreshToken',
  'authorization',
  'cookie',
  'set-cookie',
] as const;

/** pino's redact paths cannot say "any depth"; five levels deep covers every object Kiln logs. */
const depths = ['', '*', '*.*', '*.*.*', '*.*.*.*'];

export const redactPaths: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...secretKeys.flatMap((key) => depths.map((prefix) => `${prefix}["${key}"]`)),
];

export type LoggerOptions = {
  service: string;
  level?: LevelWithSilent;
  /** Where the JSON lines go; stdout when absent (tests pass a stream to read them). */
  destination?: DestinationStream;
};

export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  const options = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...redactPaths] },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type RequestContext = { correlationId: string; logger: Logger };

const requestContext = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` (and everything it awaits or schedules) with this correlation id and logger. */
export const runWithContext = <Result>(context: RequestContext, fn: () => Result): Result =>
  requestContext.run(context, fn);

export const currentCorrelationId = (): string | undefined => requestContext.getStore()?.correlationId;

let processLogger: Logger | undefined;

/**
 * The logger of the request being served (a child carrying its correlation id). Outside a request: the
 * fallback given, else a process-wide logger for code that runs before a service made its own.
 */
export function currentLogger(fallback?: Logger): Logger {
  const context = requestContext.getStore();
  if (context) return context.logger;
  if (fallback) return fallback;
  processLogger ??= createLogger({ service: 'kiln' });
  return processLogger;
}
