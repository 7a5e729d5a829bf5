// The billing audit (the query service's `GET /v1/admin/audit`: each account's projected balance against a
// fresh fold of its billing events), during a load and after it, when every reservation must be settled.
import { sleep } from 'k6';
import { Counter } from 'k6/metrics';
import { config } from './config.ts';
import { dataOf, request } from './http.ts';

export const auditMismatches = new Counter('billing_audit_mismatches');
/** Accounts the scenario touched that the audit does not know: an account the projection lost. */
export const auditMissing = new Counter('billing_audit_missing');
export const auditedAccounts = new Counter('billing_audited_accounts');
/** Accounts still holding reserved credits once the load is over and settled: a reservation never closed. */
export const unsettledAccounts = new Counter('billing_unsettled_accounts');
export const negativeBalances = new Counter('billing_negative_balances');
/** Audits run, by phase (`during` a load, `after` it). */
export const audits = new Counter('billing_audits');

type Amounts = { available: number; reserved: number };
export type AuditResult = {
  accountId: string;
  matches: boolean;
  projected: Amounts;
  folded: Amounts;
  difference: Amounts;
};

let reported = 0;

/** Every account's audit (the answer also counts them, and the mismatches, which the results repeat). */
export const auditAll = (): AuditResult[] =>
  dataOf<{ accounts: number; mismatches: number; results: AuditResult[] }>(
    request({
      method: 'GET',
      url: `${config.queryUrl}/v1/admin/audit`,
      token: config.adminToken,
      name: 'GET /v1/admin/audit',
      expect: [200],
    }),
  )?.results ?? [];

/** Counts what is wrong in an audit: mismatches and negative balances, tagged with the phase. */
export const recordAudit = (results: AuditResult[], phase: 'during' | 'after'): void => {
  auditMismatches.add(0, { phase });
  for (const result of results) {
    if (!result.matches) {
      auditMismatches.add(1, { phase });
      if (reported++ < 5) console.warn(`audit mismatch (${phase}): ${JSON.stringify(result)}`);
    }
    if (result.folded.available < 0 || result.projected.available < 0) negativeBalances.add(1, { phase });
  }
};

/** Waits (at most `seconds`) until every projector has caught up with the head of `$all`. */
export const waitForProjections = (seconds: number): boolean => {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const lags = dataOf<Array<{ caughtUp: boolean }>>(
      request({
        method: 'GET',
        url: `${config.queryUrl}/v1/projections`,
        token: config.adminToken,
        name: 'GET /v1/projections',
        expect: [200],
      }),
    );
    if (lags?.every((lag) => lag.caughtUp)) return true;
    if (Date.now() > deadline) return false;
    sleep(0.5);
  }
};

/**
 * After a load: waits (at most `seconds`) until none of the accounts holds a reservation any more (each
 * job's credits captured or released), then audits them. `touched` are the accounts the scenario used,
 * every one of which the audit must know; `scope: 'all'` settles and audits every account of the
 * deployment (whatever earlier scenarios left), not only those.
 */
export const settleAndAudit = (
  touched: string[],
  seconds: number,
  scope: 'touched' | 'all' = 'touched',
): void => {
  const deadline = Date.now() + seconds * 1000;
  const wanted = new Set(touched);
  let results: AuditResult[];
  let held: AuditResult[];
  for (;;) {
    waitForProjections(Math.max(1, (deadline - Date.now()) / 1000));
    results = auditAll().filter((result) => scope === 'all' || wanted.has(result.accountId));
    audits.add(1, { phase: 'after' });
    held = results.filter((result) => result.folded.reserved > 0);
    if (held.length === 0 || Date.now() > deadline) break;
    sleep(2);
  }
  unsettledAccounts.add(held.length);
  if (held.length > 0)
    console.warn(`${held.length} accounts still hold reservations, e.g. ${JSON.stringify(held[0])}`);
  const known = new Set(results.map((result) => result.accountId));
  const missing = touched.filter((accountId) => !known.has(accountId));
  auditMissing.add(missing.length);
  if (missing.length > 0)
    console.warn(`the audit does not know ${missing.length} accounts, e.g. ${missing[0]}`);
  auditedAccounts.add(results.length);
  recordAudit(results, 'after');
};

/** The thresholds every scenario that spends credits carries. */
export const auditThresholds = {
  billing_audit_mismatches: ['count==0'],
  billing_audit_missing: ['count==0'],
  billing_unsettled_accounts: ['count==0'],
  billing_negative_balances: ['count==0'],
  billing_audited_accounts: ['count>0'],
};
