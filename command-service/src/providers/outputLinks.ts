import { BlockList, isIP } from 'node:net';
import { ProviderError, type ProviderAdapter, type ProviderStatus } from '#src/providers/port.ts';

/**
 * Output links go into JobSucceeded, which the media processor downloads from and clients can read. A
 * link is passed on only when it is https at a public host, or on an origin the operator configured for
 * that provider (the local provider, a stub or a proxy). A link to a private, loopback or link-local
 * address, to a name that resolves only inside a network, with a user or password, or holding one of
 * Kiln's credentials fails the job (output_invalid) and is recorded nowhere: a provider that hands one
 * out is broken, or trying to make Kiln fetch from its own network.
 */

const internal = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  internal.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  internal.addSubnet(network, prefix, 'ipv6');

const INTERNAL_NAME = /(^|\.)(localhost|internal|local|localdomain|lan|home\.arpa)$/i;

const isPublicHost = (hostname: string): boolean => {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return !internal.check(bare, 'ipv4');
  if (family === 6) return !internal.check(bare, 'ipv6');
  // A single label ("minio") is resolved through the local search domains.
  return bare.includes('.') && !INTERNAL_NAME.test(bare);
};

export type LinkRules = {
  /** Origins the operator configured for the provider, where plain http and private hosts are fine. */
  trustedOrigins: readonly string[];
  /** Kiln's credentials for the provider: a link holding one would hand it to whoever reads the event. */
  secrets: readonly string[];
};

export const isPassableLink = (link: string, rules: LinkRules): boolean => {
  if (!URL.canParse(link)) return false;
  const url = new URL(link);
  if (url.username || url.password) return false;
  if (rules.secrets.some((secret) => secret.length > 0 && link.includes(secret))) return false;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (rules.trustedOrigins.includes(url.origin)) return true;
  return url.protocol === 'https:' && isPublicHost(url.hostname);
};

const checked = (status: ProviderStatus, rules: LinkRules): ProviderStatus =>
  status.state === 'succeeded' && !status.outputs.every((output) => isPassableLink(output.url, rules))
    ? { state: 'failed', code: 'output_invalid', retryable: false }
    : status;

/** The adapter, with every output link it reports (by status, result or webhook) held to the rules. */
export const withCheckedOutputLinks = (adapter: ProviderAdapter, rules: LinkRules): ProviderAdapter => ({
  ...adapter,
  getStatus: async (id, model, options) => checked(await adapter.getStatus(id, model, options), rules),
  async getResult(id, model, options) {
    const outputs = await adapter.getResult(id, model, options);
    if (outputs.every((output) => isPassableLink(output.url, rules))) return outputs;
    throw new ProviderError('output_invalid', 'the provider gave an output link Kiln does not pass on', {
      retryable: false,
    });
  },
  readWebhook: async (request) => {
    const webhook = await adapter.readWebhook(request);
    return { ...webhook, status: checked(webhook.status, rules) };
  },
});

/** The origin of a configured base URL, for `trustedOrigins`. */
export const originOf = (baseUrl: string | undefined): string[] =>
  baseUrl && URL.canParse(baseUrl) ? [new URL(baseUrl).origin] : [];
