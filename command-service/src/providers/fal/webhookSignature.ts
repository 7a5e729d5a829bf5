import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { callProvider, lowerCaseHeaders } from '#src/providers/http.ts';
import { InvalidWebhookSignature, type WebhookRequest } from '#src/providers/port.ts';

/**
 * fal's webhook signatures: ED25519 over
 *   `<X-Fal-Webhook-Request-Id>\n<X-Fal-Webhook-User-Id>\n<X-Fal-Webhook-Timestamp>\n<hex sha256 of the body>`
 * with the signature hex in X-Fal-Webhook-Signature, checked against the public keys fal publishes as a
 * JWKS. Timestamps (Unix seconds) more than five minutes away from now are refused.
 */

/** Where fal publishes its webhook keys (the address its webhook docs and examples use). */
export const FAL_JWKS_URL = 'https://rest.alpha.fal.ai/.well-known/jwks.json';

const Jwks = z.object({
  keys: z.array(z.object({ kty: z.string(), crv: z.string().optional(), x: z.string().optional() }).loose()),
});

export type FalWebhookVerifierOptions = {
  jwksUrl?: string;
  /** How long fetched keys are used (fal suggests up to a day). */
  cacheMs?: number;
  /** Unknown signatures refetch the keys (a rotation), but not more often than this. */
  refetchAfterMs?: number;
  toleranceSeconds?: number;
  fetchTimeoutMs?: number;
  now?: () => number;
};

export type VerifiedFalWebhook = { requestId: string; userId: string; timestamp: number };

const importKeys = (jwks: z.infer<typeof Jwks>): KeyObject[] =>
  jwks.keys.flatMap((jwk) => {
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) return [];
    try {
      return [createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' })];
    } catch {
      return [];
    }
  });

export const createFalWebhookVerifier = (options: FalWebhookVerifierOptions = {}) => {
  const jwksUrl = options.jwksUrl ?? FAL_JWKS_URL;
  const cacheMs = options.cacheMs ?? 24 * 60 * 60 * 1000;
  const refetchAfterMs = options.refetchAfterMs ?? 5 * 60 * 1000;
  const toleranceSeconds = options.toleranceSeconds ?? 5 * 60;
  const now = options.now ?? Date.now;
  let cached: { keys: KeyObject[]; fetchedAt: number } | undefined;
  let fetching: Promise<KeyObject[]> | undefined;

  /** The keys, fetched once for many concurrent deliveries. A JWKS that cannot be had is a ProviderError. */
  const fetchKeys = (): Promise<KeyObject[]> => {
    fetching ??= callProvider(Jwks, {
      method: 'GET',
      url: jwksUrl,
      headers: {},
      signal: AbortSignal.timeout(options.fetchTimeoutMs ?? 5_000),
    })
      .then((answer) => {
        cached = { keys: importKeys(answer.body), fetchedAt: now() };
        return cached.keys;
      })
      .finally(() => {
        fetching = undefined;
      });
    return fetching;
  };

  const keys = async (): Promise<KeyObject[]> =>
    cached && now() - cached.fetchedAt < cacheMs ? cached.keys : fetchKeys();

  const signedBy = (list: KeyObject[], message: Buffer, signature: Buffer) =>
    list.some((key) => verify(null, message, key, signature));

  return {
    async verify(request: WebhookRequest): Promise<VerifiedFalWebhook> {
      const headers = lowerCaseHeaders(request.headers);
      const requestId = headers['x-fal-webhook-request-id'];
      const userId = headers['x-fal-webhook-user-id'];
      const timestamp = headers['x-fal-webhook-timestamp'];
      const signatureHex = headers['x-fal-webhook-signature'];
      if (!requestId || !userId || !timestamp || !signatureHex) throw new InvalidWebhookSignature('fal');
      if (!/^\d+$/.test(timestamp) || Math.abs(now() / 1000 - Number(timestamp)) > toleranceSeconds) {
        throw new InvalidWebhookSignature('fal');
      }
      if (!/^([0-9a-f]{2})+$/i.test(signatureHex)) throw new InvalidWebhookSignature('fal');
      const signature = Buffer.from(signatureHex, 'hex');
      if (signature.length !== 64) throw new InvalidWebhookSignature('fal');
      const digest = createHash('sha256').update(request.rawBody).digest('hex');
      const message = Buffer.from(`${requestId}\n${userId}\n${timestamp}\n${digest}`, 'utf8');
      if (signedBy(await keys(), message, signature))
        return { requestId, userId, timestamp: Number(timestamp) };
      const stale = !cached || now() - cached.fetchedAt >= refetchAfterMs;
      if (stale && signedBy(await fetchKeys(), message, signature)) {
        return { requestId, userId, timestamp: Number(timestamp) };
      }
      throw new InvalidWebhookSignature('fal');
    },
  };
};

export type FalWebhookVerifier = ReturnType<typeof createFalWebhookVerifier>;
