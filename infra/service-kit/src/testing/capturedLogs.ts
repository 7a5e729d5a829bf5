import { createLogger, type Logger } from '#src/logger.ts';

export type LogLine = Record<string, unknown> & { msg?: string; level: number };

/** A real pino logger writing to memory: the JSON lines a service would print, parsed. */
export function captureLogs(service = 'test'): { logger: Logger; lines: LogLine[]; raw: string[] } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const destination = {
    write(chunk: string): void {
      raw.push(chunk);
      lines.push(JSON.parse(chunk) as LogLine);
    },
  };
  return { logger: createLogger({ service, level: 'debug', destination }), lines, raw };
}
