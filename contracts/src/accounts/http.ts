import { z } from 'zod';

export const Email = z
  .email('an email address, like ana@example.com')
  .max(254)
  .transform((email) => email.toLowerCase());

/** Long enough to resist guessing; the only rule, as current guidance recommends. */
export const Password = z.string().min(10, 'at least 10 characters').max(200);

export const DisplayName = z.string().trim().min(1).max(100);

export const Role = z.enum(['user', 'admin']);
export type Role = z.infer<typeof Role>;

export const SignUpBody = z.strictObject({ email: Email, password: Password, displayName: DisplayName });
export type SignUpBody = z.infer<typeof SignUpBody>;

export const SignInBody = z.strictObject({ email: Email, password: z.string().min(1).max(200) });
export type SignInBody = z.infer<typeof SignInBody>;

/** A user as the API shows it: never a password hash, a session or a token. */
export const PublicUser = z.strictObject({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  role: Role,
  accountId: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type PublicUser = z.infer<typeof PublicUser>;

export const CreateApiTokenBody = z.strictObject({ name: z.string().trim().min(1).max(100) });

export const ApiTokenCreated = z.strictObject({
  id: z.string(),
  name: z.string(),
  /** Shown once, at creation; Kiln keeps only its hash. */
  token: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
});
