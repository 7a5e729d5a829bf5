/**
 * Typed errors of the identity store. None of them carries a password, a hash or a token: their messages
 * may be logged and shown. The HTTP layer maps them (email_taken → 409 conflict, invalid_credentials → 401).
 */

/** Someone already signed up with that email address (compared case-insensitively). Nothing was written. */
export class EmailTaken extends Error {
  readonly code = 'email_taken';
  constructor() {
    super('an account with that email address already exists');
    this.name = 'EmailTaken';
  }
}

/** Wrong email or wrong password: one message for both, so an answer never tells which. */
export class InvalidCredentials extends Error {
  readonly code = 'invalid_credentials';
  constructor() {
    super('wrong email or password');
    this.name = 'InvalidCredentials';
  }
}

/** No user has that id. */
export class UserNotFound extends Error {
  readonly code = 'user_not_found';
  readonly userId: string;
  constructor(userId: string) {
    super(`no user with id ${userId}`);
    this.name = 'UserNotFound';
    this.userId = userId;
  }
}
