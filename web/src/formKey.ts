// The idempotency key a form sends. The server makes a fresh one with every load of the page's data, and
// the page's data reloads whenever a live event arrives (a balance changes, a job moves). A form that took
// each new key would be rebuilt under the hands of someone typing in it, so a form keeps its key until a
// submission's outcome comes back: a navigation (the redirect after success) or a refusal with a new key.
import { useState } from 'react';
import { useLocation } from 'react-router';

export type HeldFormKey = { locationKey: string; refusedKey: string | undefined; key: string };

export type FormKeySources = {
  /** `useLocation().key`: it changes with every navigation, never with a reload of the data. */
  locationKey: string;
  /** The key the action handed back with a refusal (the next try is a new request). */
  refusedKey: string | undefined;
  /** The key of the latest load of the page's data. */
  serverKey: string;
};

/** What a form holds after this render: the same key, unless an outcome came back since. */
export function nextFormKey(held: HeldFormKey | undefined, sources: FormKeySources): HeldFormKey {
  const renewed =
    held === undefined ||
    held.locationKey !== sources.locationKey ||
    (sources.refusedKey !== undefined && sources.refusedKey !== held.refusedKey);
  if (!renewed) return held;
  return {
    locationKey: sources.locationKey,
    refusedKey: sources.refusedKey,
    key: sources.refusedKey ?? sources.serverKey,
  };
}

/**
 * The key a form shows now. Use it both as the form component's React `key` (a new key starts the form
 * afresh, from the values sent after a refusal) and as its hidden `idempotencyKey` field.
 */
export function useFormKey(serverKey: string, refusedKey: string | undefined): string {
  const locationKey = useLocation().key;
  const [held, setHeld] = useState(() => nextFormKey(undefined, { locationKey, refusedKey, serverKey }));
  const next = nextFormKey(held, { locationKey, refusedKey, serverKey });
  if (next !== held) setHeld(next);
  return next.key;
}
