/** Why a command was refused. The HTTP edge maps each code to a status in one table. */
export type DomainErrorCode =
  | 'insufficient_credits'
  | 'too_many_active_jobs'
  | 'not_found'
  | 'forbidden'
  | 'rule_broken'
  | 'invalid_request';

/** A command that breaks a rule of the domain. Nothing is appended. */
export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly details: unknown;
  constructor(code: DomainErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }
}

export const ruleBroken = (message: string, details?: unknown) =>
  new DomainError('rule_broken', message, details);
