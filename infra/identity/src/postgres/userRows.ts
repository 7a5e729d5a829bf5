import type { PublicUser, Role } from '@kiln/contracts/accounts/http';
import { validate as isUuid } from 'uuid';

/** A users row without its password hash: the only shape that leaves the store. */
export type UserRow = {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  account_id: string;
  created_at: Date;
};

/** The columns of a UserRow, optionally qualified by a table alias; never `password_hash`. */
export const userColumns = (alias?: string): string =>
  ['id', 'email', 'display_name', 'role', 'account_id', 'created_at']
    .map((column) => (alias ? `${alias}.${column}` : column))
    .join(', ');

export const toPublicUser = (row: UserRow): PublicUser => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  role: row.role,
  accountId: row.account_id,
  createdAt: row.created_at.toISOString(),
});

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** Ids are uuids: anything else names no row (and would be a PostgreSQL syntax error if sent). */
export const isId = (value: string): boolean => isUuid(value);

/** PostgreSQL's SQLSTATE for a unique or foreign-key violation, and the constraint it names. */
export const violation = (error: unknown): { code: string; constraint: string | undefined } | undefined => {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  if (code !== '23505' && code !== '23503') return undefined;
  const constraint =
    'constraint' in error && typeof error.constraint === 'string' ? error.constraint : undefined;
  return { code, constraint };
};
