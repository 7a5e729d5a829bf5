import { createHash, randomBytes } from 'node:crypto';

/**
 * Session and API tokens: 32 random bytes, base64url (43 characters); API tokens carry a `kiln_` prefix so
 * they are recognizable in a config file or a leak scanner. Only their SHA-256 is stored: the tokens are
 * random, so a fast hash suffices, and a stolen table holds nothing that signs anyone in.
 */
const TOKEN_BYTES = 32;
export const API_TOKEN_PREFIX = 'kiln_';

const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const API_TOKEN = /^kiln_[A-Za-z0-9_-]{43}$/;

export const newSessionToken = (): string => randomBytes(TOKEN_BYTES).toString('base64url');
export const newApiToken = (): string => API_TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');

export const isSessionTokenShaped = (token: string): boolean => SESSION_TOKEN.test(token);
export const isApiTokenShaped = (token: string): boolean => API_TOKEN.test(token);

/** What the tables keep: the SHA-256 of the whole token text. */
export const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();
