/** Errors a reader or writer can outlive by reconnecting and trying again. */
const transientSqlStates = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, a restart)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

const transientNodeCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTCONN',
]);

const transientMessages = [
  /connection terminated/i,
  /connection error/i,
  /terminating connection/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
];

export const isTransientPostgresError = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || transientSqlStates.has(code) || transientNodeCodes.has(code)) return true;
  }
  return transientMessages.some((pattern) => pattern.test(error.message));
};
