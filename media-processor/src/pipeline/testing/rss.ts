export type RssMeasure<T> = {
  outcome: PromiseSettledResult<T>;
  /** Resident set size before the work, and its highest sample while it ran, in MB. */
  beforeMb: number;
  peakMb: number;
  riseMb: number;
};

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

/**
 * Runs `work` while sampling the process's RSS every millisecond. sharp decodes on libuv's threads, so the
 * event loop stays free to sample while it works.
 */
export const measureRss = async <T>(work: () => Promise<T>): Promise<RssMeasure<T>> => {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 1);
  const [outcome] = await Promise.allSettled([work()]);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  return { outcome, beforeMb: mb(before), peakMb: mb(peak), riseMb: mb(peak - before) };
};
