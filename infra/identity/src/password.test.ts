import { describe, expect, it } from 'vitest';
import { dummyPasswordHash, hashPassword, parsePasswordHash, verifyPassword } from '#src/password.ts';

describe('password hashes', () => {
  it('are self-describing: scrypt$32768$8$1$<16-byte salt>$<64-byte key>', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
    const parsed = parsePasswordHash(stored);
    expect(parsed).toMatchObject({ N: 32768, r: 8, p: 1 });
    expect(parsed?.salt).toHaveLength(16);
    expect(parsed?.key).toHaveLength(64);
    expect(stored).not.toContain('correct horse');
  });

  it('verify the right password and refuse a wrong one', async () => {
    const stored = await hashPassword('correct horse battery staple');
    await expect(verifyPassword('correct horse battery staple', stored)).resolves.toBe(true);
    await expect(verifyPassword('correct horse battery stapler', stored)).resolves.toBe(false);
    await expect(verifyPassword('', stored)).resolves.toBe(false);
  });

  it('are salted: one password hashes differently each time', async () => {
    const [first, second] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    expect(first).not.toBe(second);
    await expect(verifyPassword('same password', first)).resolves.toBe(true);
    await expect(verifyPassword('same password', second)).resolves.toBe(true);
  });

  it('match a password however its accents are composed (NFC)', async () => {
    const composed = 'caf\u00e9-au-lait-2024';
    const decomposed = 'cafe\u0301-au-lait-2024';
    await expect(verifyPassword(decomposed, await hashPassword(composed))).resolves.toBe(true);
  });

  it('honour the parameters stored with the hash', async () => {
    const stored = await hashPassword('parameters travel with the hash');
    const key = parsePasswordHash(stored)!;
    // A hash made with other parameters (as a future version might) still verifies by its own.
    const { scrypt } = await import('node:crypto');
    const cheaper = await new Promise<Buffer>((resolve, reject) =>
      scrypt('parameters travel with the hash', key.salt, 32, { N: 1024, r: 8, p: 1 }, (error, derived) =>
        error ? reject(error) : resolve(derived),
      ),
    );
    const old = `scrypt$1024$8$1$${key.salt.toString('base64')}$${cheaper.toString('base64')}`;
    await expect(verifyPassword('parameters travel with the hash', old)).resolves.toBe(true);
    await expect(verifyPassword('something else entirely', old)).resolves.toBe(false);
  });

  it.each([
    ['empty', ''],
    ['plaintext', 'hunter2hunter2'],
    ['another scheme', 'bcrypt$2b$10$abc'],
    ['N not a power of two', 'scrypt$1000$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5'],
    ['N absurdly large', 'scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5'],
    ['r zero', 'scrypt$1024$0$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5'],
    ['salt not base64', 'scrypt$1024$8$1$not base64!$a2V5a2V5a2V5a2V5a2V5a2V5'],
    ['too many parts', 'scrypt$1024$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5$extra'],
  ])('refuse an unreadable stored hash (%s) without throwing', async (_case, stored) => {
    expect(parsePasswordHash(stored)).toBeUndefined();
    await expect(verifyPassword('hunter2hunter2', stored)).resolves.toBe(false);
  });

  it('keep one dummy hash per process, for unknown emails', async () => {
    const dummy = await dummyPasswordHash();
    expect(parsePasswordHash(dummy)).toMatchObject({ N: 32768, r: 8, p: 1 });
    await expect(dummyPasswordHash()).resolves.toBe(dummy);
  });
});
