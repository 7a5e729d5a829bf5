import { isIPv4, isIPv6 } from 'node:net';

/**
 * What of a provider's log a client may read (JobProgressed.log reaches browsers as it is): one short line
 * of words, without links, network addresses, host names, credentials or anything shaped like a key.
 * Progress is read from the raw lines before this (logs.ts), so hiding numbers loses nothing.
 */

const MAX_CHARS = 300;

const CONTROL = /[\p{Cc}\p{Cf}]+/gu;
const LINK = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;
const BEARER = /\b(bearer|basic)\s+[\w~+/.=:-]{6,}/gi;
/** `token=…`, `api_key: …`, `Authorization: Key …`: the name stays, the value goes. */
const NAMED_SECRET =
  /\b(authorization|api[_-]?key|access[_-]?key|secret|token|password|passwd|signature|key)\s*[=:]\s*["']?(?:(?:bearer|basic|key|token)\s+)?[^\s"',;]+/gi;
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g;
const IPV6 = /(?<![\w.:])\[?[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\]?(?::\d{1,5})?(?![\w.:])/gi;
/** Names that resolve only inside a network, and any `host.name:port`. */
const HOST =
  /\b(?:localhost|[\w-]+(?:\.[\w-]+)*\.(?:internal|local|localdomain|lan|corp|intranet|svc|home\.arpa))(?::\d{1,5})?\b|\b[\w-]+(?:\.[\w-]+)+:\d{2,5}\b/gi;
/** Key formats (Replicate's `r8_…`, Standard Webhooks' `whsec_…`, `sk-…`) and any long run of key characters. */
const KEY_LIKE = /\b(?:r8_|whsec_|sk-)[\w+/=-]+|[\w+/=-]{32,}/g;

const address = (found: string, isAddress: (bare: string) => boolean) => {
  const bare = found.replace(/^\[/, '').replace(/\](?::\d+)?$/, '');
  return isAddress(bare) ? '[address]' : found;
};

export const cleanLogLine = (line: string | undefined): string | undefined => {
  if (!line) return undefined;
  const cleaned = line
    .replace(CONTROL, ' ')
    .replace(LINK, '[link]')
    .replace(BEARER, '$1 [redacted]')
    .replace(NAMED_SECRET, '$1=[redacted]')
    .replace(IPV4, (found) => address(found.replace(/:\d+$/, ''), isIPv4))
    .replace(IPV6, (found) => address(found, isIPv6))
    .replace(HOST, '[address]')
    .replace(KEY_LIKE, '[redacted]')
    .trim()
    .slice(0, MAX_CHARS);
  return cleaned.length > 0 ? cleaned : undefined;
};
