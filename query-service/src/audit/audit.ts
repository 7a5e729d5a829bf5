import type { KilnEvent } from '@kiln/contracts/events';
import type { AuditResult, ReplayResult } from '@kiln/contracts/views';
import type { EventStore } from '@kiln/event-store/port';
import type { ReadModels } from '#src/readModels/collections.ts';
import { foldBilling, type AsOf } from '#src/audit/billingFold.ts';

/**
 * `audit`: an account's balance as the projection has it, against a fresh fold of its billing stream. The
 * projection may lag: it is compared at the position it has reached, so a lagging projection is not a
 * mismatch, and a real one is reported with the exact difference.
 */
export const auditAccount = async (
  store: EventStore<KilnEvent>,
  readModels: ReadModels,
  accountId: string,
): Promise<AuditResult | undefined> => {
  const balance = await (await readModels.collection('balances')).findOne({ _id: accountId });
  const folded = await foldBilling(store, accountId, balance ? { position: balance.position } : {});
  if (!balance && !folded.exists) return undefined;
  const projected = { available: balance?.available ?? 0, reserved: balance?.reserved ?? 0 };
  const difference = {
    available: projected.available - folded.available,
    reserved: projected.reserved - folded.reserved,
  };
  return {
    accountId,
    matches: difference.available === 0 && difference.reserved === 0 && (balance !== null || !folded.exists),
    projected,
    folded: { available: folded.available, reserved: folded.reserved },
    difference,
    position: folded.position,
  };
};

/** Every account at once (admin): the ones that do not match first. */
export const auditAll = async (
  store: EventStore<KilnEvent>,
  readModels: ReadModels,
): Promise<AuditResult[]> => {
  const balances = await (
    await readModels.collection('balances')
  )
    .find({}, { projection: { _id: 1 } })
    .toArray();
  const results: AuditResult[] = [];
  for (const { _id } of balances) {
    const result = await auditAccount(store, readModels, String(_id));
    if (result) results.push(result);
  }
  return results.sort((a, b) => Number(a.matches) - Number(b.matches));
};

/**
 * `replay`: an account as of a past global position or moment: its balance by folding its events up to
 * then, and its ledger entries up to then (entries never change once written).
 */
export const replayAccount = async (
  store: EventStore<KilnEvent>,
  readModels: ReadModels,
  accountId: string,
  asOf: AsOf,
): Promise<ReplayResult | undefined> => {
  const folded = await foldBilling(store, accountId, asOf);
  if (!folded.exists) return undefined;
  const filter: Record<string, unknown> = { accountId };
  if (folded.position) filter['position'] = { $lte: folded.position };
  const entries = await (await readModels.collection('ledger')).find(filter).sort({ position: 1 }).toArray();
  return {
    accountId,
    asOf: { position: asOf.position ?? null, at: asOf.at ?? null },
    balance: { available: folded.available, reserved: folded.reserved },
    ledger: entries.map(({ _id: _ignored, ...entry }) => entry),
  };
};
