import multer from 'multer';
import { EventRejected } from '@kiln/contracts/events';
import { ApiProblem } from '@kiln/contracts/http/problem';
import { WrongExpectedRevision } from '@kiln/event-store/errors';
import { EmailTaken, InvalidCredentials } from '@kiln/identity/errors';
import { ConcurrencyConflict } from '#src/app/commandHandler.ts';
import { DomainError, type DomainErrorCode } from '#src/domain/errors.ts';

const problemOfDomainCode = {
  insufficient_credits: 'insufficient_credits',
  too_many_active_jobs: 'too_many_active_jobs',
  not_found: 'not_found',
  forbidden: 'forbidden',
  rule_broken: 'conflict',
  invalid_request: 'validation_failed',
} as const satisfies Record<DomainErrorCode, ApiProblem['code']>;

const ACTIVE_JOB_RETRY_SECONDS = 10;

const multerProblem = (error: multer.MulterError): ApiProblem => {
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      return new ApiProblem('payload_too_large', 'a file is larger than 10 MB', {
        details: { field: error.field },
      });
    case 'LIMIT_FILE_COUNT':
      return new ApiProblem('payload_too_large', 'at most 14 files at once');
    default:
      return new ApiProblem('validation_failed', `the upload is not valid: ${error.message}`, {
        details: { field: error.field },
      });
  }
};

/** The command side's own errors, in the one envelope: the table every route shares. */
export const mapCommandError = (error: unknown): ApiProblem | undefined => {
  if (error instanceof DomainError) {
    return new ApiProblem(problemOfDomainCode[error.code], error.message, {
      details: error.details,
      ...(error.code === 'too_many_active_jobs' ? { retryAfterSeconds: ACTIVE_JOB_RETRY_SECONDS } : {}),
    });
  }
  if (error instanceof ConcurrencyConflict || error instanceof WrongExpectedRevision) {
    return new ApiProblem('conflict', 'someone else changed this at the same moment; try again');
  }
  if (error instanceof EventRejected) {
    return new ApiProblem('validation_failed', 'the request does not make a valid event', {
      details: error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  if (error instanceof multer.MulterError) return multerProblem(error);
  if (error instanceof EmailTaken)
    return new ApiProblem('conflict', 'an account with this email exists; sign in instead');
  if (error instanceof InvalidCredentials) return new ApiProblem('unauthenticated', error.message);
  return undefined;
};
