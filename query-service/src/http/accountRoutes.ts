import { Router } from 'express';
import { z } from 'zod';
import type { KilnEvent } from '@kiln/contracts/events';
import { EntityId } from '@kiln/contracts/envelope';
import { Position } from '@kiln/contracts/position';
import type { EventStore } from '@kiln/event-store/port';
import { requireAdmin, requireUser, userOf } from '@kiln/identity/http';
import { parseWith, sendOk } from '@kiln/service-kit/http';
import { auditAccount, auditAll, replayAccount } from '#src/audit/audit.ts';
import type { ReadModels } from '#src/readModels/collections.ts';
import { notFound, requireAccountAccess } from '#src/http/access.ts';
import { decodeCursor, encodeCursor, Limit } from '#src/http/paging.ts';

const LedgerQuery = z.object({
  cursor: z.string().max(500).optional(),
  limit: Limit,
  after: z.string().optional(),
});
const ReplayQuery = z
  .object({
    position: Position.optional(),
    at: z.iso.datetime({ offset: true }).optional(),
    after: z.string().optional(),
  })
  .refine(
    (query) => query.position !== undefined || query.at !== undefined,
    'give a position or a time (at)',
  );
const accountParams = z.strictObject({ accountId: EntityId });

const withoutId = <Doc extends { _id: unknown }>({ _id: _ignored, ...rest }: Doc) => rest;

/** Balances and ledgers, the audit of an account or of all, and the replay of an account to any past moment. */
export const accountRoutes = (store: EventStore<KilnEvent>, readModels: ReadModels): Router => {
  const router = Router();

  const balanceOf = async (accountId: string) => {
    const balance = await (await readModels.collection('balances')).findOne({ _id: accountId });
    if (!balance) throw notFound('account');
    return withoutId(balance);
  };

  const ledgerOf = async (accountId: string, query: z.infer<typeof LedgerQuery>) => {
    const filter: Record<string, unknown> = { accountId };
    const cursor = decodeCursor(query.cursor, z.string());
    if (cursor) filter['position'] = { $lt: cursor };
    const entries = await (
      await readModels.collection('ledger')
    )
      .find(filter)
      .sort({ position: -1 })
      .limit(query.limit + 1)
      .toArray();
    const page = entries.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(withoutId),
      next: entries.length > query.limit && last ? encodeCursor(last.position) : null,
    };
  };

  router.get('/v1/accounts/me/balance', requireUser, async (_req, res) =>
    sendOk(res, await balanceOf(userOf(res).accountId)),
  );
  router.get('/v1/accounts/me/ledger', requireUser, async (req, res) =>
    sendOk(res, await ledgerOf(userOf(res).accountId, parseWith(LedgerQuery, req.query, 'query'))),
  );
  router.get('/v1/accounts/:accountId/balance', requireUser, async (req, res) => {
    const { accountId } = parseWith(accountParams, req.params, 'params');
    requireAccountAccess(userOf(res), accountId);
    sendOk(res, await balanceOf(accountId));
  });
  router.get('/v1/accounts/:accountId/ledger', requireUser, async (req, res) => {
    const { accountId } = parseWith(accountParams, req.params, 'params');
    requireAccountAccess(userOf(res), accountId);
    sendOk(res, await ledgerOf(accountId, parseWith(LedgerQuery, req.query, 'query')));
  });
  router.get('/v1/accounts/:accountId/audit', requireUser, async (req, res) => {
    const { accountId } = parseWith(accountParams, req.params, 'params');
    requireAccountAccess(userOf(res), accountId);
    const result = await auditAccount(store, readModels, accountId);
    if (!result) throw notFound('account');
    sendOk(res, result);
  });
  router.get('/v1/accounts/:accountId/replay', requireUser, async (req, res) => {
    const { accountId } = parseWith(accountParams, req.params, 'params');
    requireAccountAccess(userOf(res), accountId);
    const { position, at } = parseWith(ReplayQuery, req.query, 'query');
    const result = await replayAccount(store, readModels, accountId, {
      ...(position ? { position } : {}),
      ...(at ? { at } : {}),
    });
    if (!result) throw notFound('account');
    sendOk(res, result);
  });
  router.get('/v1/admin/audit', requireAdmin, async (_req, res) => {
    const results = await auditAll(store, readModels);
    sendOk(res, {
      accounts: results.length,
      mismatches: results.filter((result) => !result.matches).length,
      results,
    });
  });
  router.get('/v1/admin/providers', requireAdmin, async (_req, res) => {
    const health = await (await readModels.collection('provider_health')).find({}).sort({ _id: 1 }).toArray();
    sendOk(res, health.map(withoutId));
  });
  return router;
};
