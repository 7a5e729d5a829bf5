import { ErrorType } from '@eventstore/db-client';

/**
 * Errors a subscription outlives by subscribing again from its last delivered event: the server or the
 * network went away, a leader changed, a deadline passed. The client filters out the cancellation our
 * own unsubscribe causes ("Cancelled on client"), so a CancelledError that reaches us came from the server.
 */
const transientTypes = new Set<string>([
  ErrorType.UNAVAILABLE,
  ErrorType.CANCELLED,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.NOT_LEADER,
]);

/** gRPC status codes, for errors the client hands over without converting them. */
const transientGrpcCodes = new Set([
  1, // CANCELLED
  4, // DEADLINE_EXCEEDED
  14, // UNAVAILABLE
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
  /RST_STREAM/i,
  /connection dropped/i,
  /no connection established/i,
  /socket hang up/i,
];

export const isTransientEsdbError = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const { type, code } = error as { type?: unknown; code?: unknown };
  if (typeof type === 'string' && transientTypes.has(type)) return true;
  if (typeof code === 'number' && transientGrpcCodes.has(code)) return true;
  if (typeof code === 'string' && transientNodeCodes.has(code)) return true;
  return transientMessages.some((pattern) => pattern.test(error.message));
};
