import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes: scrypt with N=2^15, r=8, p=1 (32 MiB, about 50 ms), a 64-byte key and a 16-byte random
 * salt, stored self-describing as `scrypt$N$r$p$<salt base64>$<key base64>` so the parameters can be raised
 * later without breaking stored hashes. Always the async scrypt: it runs on libuv's pool, never blocking the
 * event loop. Passwords are NFC-normalized first, so the same accented password typed on two systems matches.
 */
export const scryptParameters = { N: 2 ** 15, r: 8, p: 1, keyLength: 64, saltLength: 16 } as const;

const PREFIX = 'scrypt';
/** Upper bounds for parameters read back from storage, so a corrupt row cannot ask for gigabytes. */
const limits = { N: 2 ** 20, r: 32, p: 16, keyLength: 256 };

type Parsed = { N: number; r: number; p: number; salt: Buffer; key: Buffer };

/** scrypt needs 128·N·r bytes; Node's default `maxmem` (32 MiB) is exactly that for N=2^15, r=8: too tight. */
const maxmemFor = (N: number, r: number): number => 128 * N * r * 2;

const deriveKey = (
  password: string,
  salt: Buffer,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });

export async function hashPassword(password: string): Promise<string> {
  const { N, r, p, keyLength, saltLength } = scryptParameters;
  const salt = randomBytes(saltLength);
  const key = await deriveKey(password, salt, keyLength, { N, r, p, maxmem: maxmemFor(N, r) });
  return [PREFIX, N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

const isPowerOfTwo = (n: number): boolean => Number.isSafeInteger(n) && n > 1 && (n & (n - 1)) === 0;
const inRange = (n: number, max: number): boolean => Number.isSafeInteger(n) && n >= 1 && n <= max;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Reads a stored hash; undefined when it is not one this module wrote (or its parameters are absurd). */
export function parsePasswordHash(stored: string): Parsed | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined;
  const [, nText, rText, pText, saltText = '', keyText = ''] = parts;
  const [N, r, p] = [Number(nText), Number(rText), Number(pText)];
  if (!isPowerOfTwo(N) || N > limits.N || !inRange(r, limits.r) || !inRange(p, limits.p)) return undefined;
  if (!BASE64.test(saltText) || !BASE64.test(keyText)) return undefined;
  const salt = Buffer.from(saltText, 'base64');
  const key = Buffer.from(keyText, 'base64');
  if (salt.length < 8 || key.length < 16 || key.length > limits.keyLength) return undefined;
  return { N, r, p, salt, key };
}

/** True when the password matches the stored hash; false for a wrong password or an unreadable hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (!parsed) return false;
  const { N, r, p, salt, key } = parsed;
  const candidate = await deriveKey(password, salt, key.length, { N, r, p, maxmem: maxmemFor(N, r) });
  return timingSafeEqual(candidate, key);
}

let dummyHash: Promise<string> | undefined;

/**
 * A hash of a random password, made once per process: signing in with an unknown email verifies against it,
 * so that answer costs the same scrypt work as a wrong password and timing does not tell them apart.
 */
export const dummyPasswordHash = (): Promise<string> =>
  (dummyHash ??= hashPassword(randomBytes(32).toString('base64url')));
