import { createHash, generateKeyPairSync, sign } from 'node:crypto';

export const FAL_STUB_USER = 'stub-user';

/**
 * The fal stub's webhook signing: a fresh ED25519 key pair, its public half as a JWKS, and deliveries
 * signed the way fal documents (request id, user id, timestamp and the body's sha256, one per line).
 */
export const createFalSigner = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    jwks: () => ({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'stub-key', use: 'sig' }] }),
    /** Headers and raw body of a webhook as fal signs it, at `at` (tests sign old or tampered ones). */
    signedDelivery: (requestId: string, body: string, at = new Date()) => {
      const timestamp = String(Math.floor(at.getTime() / 1000));
      const digest = createHash('sha256').update(body).digest('hex');
      const message = Buffer.from(`${requestId}\n${FAL_STUB_USER}\n${timestamp}\n${digest}`);
      const headers = {
        'x-fal-webhook-request-id': requestId,
        'x-fal-webhook-user-id': FAL_STUB_USER,
        'x-fal-webhook-timestamp': timestamp,
        'x-fal-webhook-signature': sign(null, message, privateKey).toString('hex'),
      };
      return { headers, rawBody: Buffer.from(body) };
    },
  };
};
