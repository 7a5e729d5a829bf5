// Options every scenario shares.

/** The statistics kept of every Trend: the runner's summary reads the median, p95 and p99. */
export const summaryTrendStats = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];
