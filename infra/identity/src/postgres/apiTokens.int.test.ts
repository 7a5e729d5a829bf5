import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserNotFound } from '#src/errors.ts';
import { tokenHash } from '#src/secretToken.ts';
import { openIsolatedIdentity, uniqueEmail, type IsolatedIdentity } from '#src/testing/isolatedIdentity.ts';

describe('identity store: API tokens', () => {
  let subject: IsolatedIdentity;
  beforeAll(async () => {
    subject = await openIsolatedIdentity();
  });
  afterAll(async () => subject.dispose());

  const newUser = () =>
    subject.identity.signUp({
      email: uniqueEmail(),
      password: 'correct horse battery staple',
      displayName: 'T',
    });

  it('creates a token shown once, resolves it to its user, and stops resolving it once revoked', async () => {
    const user = await newUser();
    const created = await subject.identity.createApiToken(user.id, 'k6 load test');
    expect(Object.keys(created).sort()).toEqual(['createdAt', 'id', 'name', 'token']);
    expect(created.name).toBe('k6 load test');
    expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false);
    expect(created.token).toMatch(/^kiln_[A-Za-z0-9_-]{43}$/);
    await expect(subject.identity.userByApiToken(created.token)).resolves.toEqual(user);

    await expect(subject.identity.revokeApiToken(user.id, created.id)).resolves.toBe(true);
    await expect(subject.identity.userByApiToken(created.token)).resolves.toBeNull();
    await expect(subject.identity.revokeApiToken(user.id, created.id)).resolves.toBe(true); // idempotent
  });

  it('lets only the owner revoke a token', async () => {
    const [owner, other] = await Promise.all([newUser(), newUser()]);
    const { id, token } = await subject.identity.createApiToken(owner.id, 'mine');
    await expect(subject.identity.revokeApiToken(other.id, id)).resolves.toBe(false);
    await expect(subject.identity.userByApiToken(token)).resolves.toEqual(owner);
    await expect(subject.identity.revokeApiToken(owner.id, 'not-a-uuid')).resolves.toBe(false);
  });

  it('stores only the SHA-256 of a token, and notes when it was last used', async () => {
    const user = await newUser();
    const { id, token } = await subject.identity.createApiToken(user.id, 'script');
    const table = `${subject.schema}.api_tokens`;
    const { rows } = await subject.admin.query<{
      row: string;
      token_hash: Buffer;
      last_used_at: Date | null;
    }>(`select t::text as row, token_hash, last_used_at from ${table} t where user_id = $1`, [user.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.row).not.toContain(token);
    expect(rows[0]!.row).not.toContain(token.slice(5));
    expect(rows[0]!.token_hash.equals(tokenHash(token))).toBe(true);
    expect(rows[0]!.last_used_at).toBeNull();

    await subject.identity.userByApiToken(token);
    const [listed] = await subject.identity.listApiTokens(user.id);
    expect(listed).toMatchObject({ id, revokedAt: null });
    expect(listed?.lastUsedAt).toEqual(expect.stringMatching(/^\d{4}-/));
  });

  it('lists a user’s tokens without their text or hash', async () => {
    const user = await newUser();
    const first = await subject.identity.createApiToken(user.id, 'first');
    const second = await subject.identity.createApiToken(user.id, 'second');
    await subject.identity.revokeApiToken(user.id, first.id);
    const listed = await subject.identity.listApiTokens(user.id);
    expect(listed.map(({ revokedAt, ...rest }) => ({ ...rest, revoked: revokedAt !== null }))).toEqual([
      { id: first.id, name: 'first', createdAt: first.createdAt, lastUsedAt: null, revoked: true },
      { id: second.id, name: 'second', createdAt: second.createdAt, lastUsedAt: null, revoked: false },
    ]);
    const text = JSON.stringify(listed);
    for (const { token } of [first, second]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(tokenHash(token).toString('hex'));
      expect(text).not.toContain(tokenHash(token).toString('base64'));
    }
    expect(Object.keys(listed[0]!).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt']);
  });

  it('knows nothing of a made-up or malformed token, and refuses a token for an unknown user', async () => {
    await expect(subject.identity.userByApiToken(`kiln_${'A'.repeat(43)}`)).resolves.toBeNull();
    await expect(subject.identity.userByApiToken('kiln_')).resolves.toBeNull();
    await expect(
      subject.identity.createApiToken('0190f5a0-0000-7000-8000-000000000000', 'orphan'),
    ).rejects.toBeInstanceOf(UserNotFound);
    await expect(subject.identity.listApiTokens('0190f5a0-0000-7000-8000-000000000000')).resolves.toEqual([]);
  });
});
