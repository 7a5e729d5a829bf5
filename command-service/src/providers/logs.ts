/** How many of a provider's latest log lines a status carries. */
const MAX_LINES = 20;
/** JobProgressed keeps a log line of at most this many characters. */
const MAX_LINE_CHARS = 1000;

// eslint-disable-next-line no-control-regex -- terminal colour codes are control characters by definition
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
// eslint-disable-next-line no-control-regex -- and so is whatever else a model prints that a person cannot read
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** A provider's log (one text or several lines), as the last few readable lines. */
export const recentLogLines = (logs: string | readonly string[] | null | undefined): string[] => {
  if (!logs) return [];
  const lines =
    typeof logs === 'string' ? logs.split(/\r?\n|\r/) : logs.flatMap((line) => line.split(/\r?\n|\r/));
  return lines
    .map((line) => line.replace(ANSI, '').replace(CONTROL, '').trim())
    .filter((line) => line.length > 0)
    .slice(-MAX_LINES)
    .map((line) => line.slice(0, MAX_LINE_CHARS));
};

/** The progress a model prints as a progress bar ("  50%|█████     | 2/4 [...]", "step 3/8"), 0..1. */
export const progressFromLogs = (lines: readonly string[]): number | undefined => {
  for (const line of [...lines].reverse()) {
    const percent = /(\d{1,3})%\|/.exec(line);
    if (percent?.[1]) return Math.min(1, Number(percent[1]) / 100);
    const steps = /\b(\d+)\s*\/\s*(\d+)\b/.exec(line);
    if (steps?.[1] && steps[2] && Number(steps[2]) > 0)
      return Math.min(1, Number(steps[1]) / Number(steps[2]));
  }
  return undefined;
};
