import { data, Form, redirect, useNavigation } from 'react-router';
import { modelCatalog } from '@kiln/contracts/catalog';
import type { AuditResult, ProjectorLag, ProviderHealth } from '@kiln/contracts/views';
import type { Route } from './+types/admin';
import { Field, ProblemMessage } from '../components.tsx';
import { credits, timeText } from '../format.ts';
import { useFormKey } from '../formKey.ts';
import { formText } from '../formText.ts';
import { kiln } from '../server/kiln.server.ts';
import { requireUser } from '../server/session.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Admin · Kiln' }];

type CreditsChanged = { accountId: string; position: string | null };
type AuditAll = { accounts: number; mismatches: number; results: AuditResult[] };

/**
 * A provider's health as the page shows it: what its events recorded, or, for a provider of the catalog
 * that has recorded none (no breaker change, no limit hit), the state the projection starts from.
 */
type ProviderRow = { provider: string; breaker: ProviderHealth['breaker']; recorded: ProviderHealth | null };

const providerRows = (recorded: readonly ProviderHealth[]): ProviderRow[] => {
  const byName = new Map(recorded.map((health) => [health.provider, health]));
  const names = [...new Set([...modelCatalog.map((model) => model.provider), ...byName.keys()])].sort();
  return names.map((provider) => {
    const health = byName.get(provider) ?? null;
    return { provider, breaker: health?.breaker ?? 'closed', recorded: health };
  });
};

const requireAdmin = async (request: Request) => {
  const user = await requireUser(request);
  if (user.role !== 'admin') throw new Response('This page is for admins.', { status: 403 });
  return user;
};

export const loader = async ({ request }: Route.LoaderArgs) => {
  await requireAdmin(request);
  const url = new URL(request.url);
  const services = kiln();
  const [audit, providers, projections] = await Promise.all([
    services.query<AuditAll>('/v1/admin/audit', { request }),
    services.query<ProviderHealth[]>('/v1/admin/providers', { request }),
    services.query<ProjectorLag[]>('/v1/projections', { request }),
  ]);
  return {
    audit: audit.ok ? audit.data : null,
    auditProblem: audit.ok ? null : audit.problem,
    providers: providers.ok ? providerRows(providers.data) : null,
    providersProblem: providers.ok ? null : providers.problem,
    projections: projections.ok ? projections.data : null,
    projectionsProblem: projections.ok ? null : projections.problem,
    changed: url.searchParams.get('changed'),
    account: url.searchParams.get('account') ?? '',
    idempotencyKey: crypto.randomUUID(),
  };
};

type CreditForm = { accountId: string; change: 'grant' | 'adjust'; amount: string; reason: string };

export const action = async ({ request }: Route.ActionArgs) => {
  await requireAdmin(request);
  const form = await request.formData();
  const values: CreditForm = {
    accountId: formText(form, 'accountId').trim(),
    change: formText(form, 'change') === 'adjust' ? 'adjust' : 'grant',
    amount: formText(form, 'amount').trim(),
    reason: formText(form, 'reason'),
  };
  const amount = /^-?\d+$/.test(values.amount) ? Number(values.amount) : Number.NaN;
  const path = `/v1/admin/accounts/${encodeURIComponent(values.accountId)}/${
    values.change === 'grant' ? 'grants' : 'adjustments'
  }`;
  const answer = await kiln().command<CreditsChanged>(path, {
    method: 'POST',
    request,
    headers: { 'idempotency-key': formText(form, 'idempotencyKey') || crypto.randomUUID() },
    body: { amount, reason: values.reason },
  });
  if (answer.ok) {
    const next = new URLSearchParams({ changed: values.accountId });
    if (answer.data.position) next.set('after', answer.data.position);
    throw redirect(`/admin?${next.toString()}`);
  }
  return data(
    { problem: answer.problem, values, idempotencyKey: crypto.randomUUID() },
    { status: answer.status },
  );
};

function CreditsForm({
  initial,
  idempotencyKey,
  fields,
}: {
  initial: CreditForm;
  idempotencyKey: string;
  fields: Record<string, string> | undefined;
}) {
  const busy = useNavigation().state === 'submitting';
  return (
    <Form method="post" className="credits-form">
      <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
      <Field name="accountId" label="Account" error={fields?.['accountId']} hint="Its id, e.g. from the list">
        {(props) => <input {...props} required defaultValue={initial.accountId} autoComplete="off" />}
      </Field>
      <fieldset className="change-kind">
        <legend>Change</legend>
        <label>
          <input type="radio" name="change" value="grant" defaultChecked={initial.change === 'grant'} /> Grant
          credits
        </label>
        <label>
          <input type="radio" name="change" value="adjust" defaultChecked={initial.change === 'adjust'} />{' '}
          Adjust (negative takes credits away)
        </label>
      </fieldset>
      <Field name="amount" label="Amount" error={fields?.['amount']}>
        {(props) => (
          <input
            {...props}
            type="number"
            step={1}
            inputMode="numeric"
            required
            defaultValue={initial.amount}
          />
        )}
      </Field>
      <Field name="reason" label="Reason" error={fields?.['reason']} hint="Shown in the account’s ledger">
        {(props) => <input {...props} required minLength={3} maxLength={500} defaultValue={initial.reason} />}
      </Field>
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : 'Save'}
      </button>
    </Form>
  );
}

function Accounts({ audit }: { audit: AuditAll }) {
  return (
    <>
      <p role="status" className={`message ${audit.mismatches === 0 ? 'success' : 'error'}`}>
        {audit.mismatches === 0
          ? `All ${audit.accounts} accounts match their events.`
          : `${audit.mismatches} of ${audit.accounts} accounts differ from their events.`}
      </p>
      <div className="table-scroll">
        <table className="accounts">
          <caption className="visually-hidden">Accounts and their audit</caption>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Available</th>
              <th scope="col">Reserved</th>
              <th scope="col">Audit</th>
            </tr>
          </thead>
          <tbody>
            {audit.results.map((result) => (
              <tr key={result.accountId}>
                <th scope="row">
                  <a href={`/admin?${new URLSearchParams({ account: result.accountId }).toString()}#credits`}>
                    <code>{result.accountId}</code>
                  </a>
                </th>
                <td data-label="Available">{credits(result.projected.available)}</td>
                <td data-label="Reserved">{credits(result.projected.reserved)}</td>
                <td data-label="Audit">{result.matches ? 'matches' : 'differs'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Providers({ providers }: { providers: ProviderRow[] }) {
  if (providers.length === 0) return <p className="empty">No provider is known.</p>;
  return (
    <ul className="providers">
      {providers.map(({ provider, breaker, recorded }) => (
        <li key={provider} data-provider={provider} data-breaker={breaker}>
          <strong>{provider}</strong>{' '}
          <span className={`badge badge-breaker-${breaker}`}>breaker {breaker}</span>{' '}
          <span className="hint">
            {recorded
              ? `since ${timeText(recorded.changedAt)}; ${recorded.consecutiveFailures} failures in a row; ${recorded.limitHits} limit hits`
              : 'nothing recorded yet: no breaker change, no limit hit'}
          </span>
        </li>
      ))}
    </ul>
  );
}

const eventsBehind = (count: number) =>
  `${count.toLocaleString('en')} ${count === 1 ? 'event' : 'events'} behind`;

function Projections({ projections }: { projections: ProjectorLag[] }) {
  return (
    <ul className="projections">
      {projections.map((lag) => (
        <li key={lag.projector} data-projector={lag.projector}>
          <strong>{lag.projector}</strong> <span className="lag">{eventsBehind(lag.eventsBehind)}</span>{' '}
          {lag.caughtUp ? (
            <span className="badge badge-completed">caught up</span>
          ) : (
            <span className="badge badge-failed">behind</span>
          )}
        </li>
      ))}
    </ul>
  );
}

export default function Admin({ loaderData, actionData }: Route.ComponentProps) {
  const { audit, providers, projections, changed, account } = loaderData;
  const formKey = useFormKey(loaderData.idempotencyKey, actionData?.idempotencyKey);
  return (
    <div className="admin">
      <section className="panel" aria-labelledby="credits">
        <h1 id="credits">Credits</h1>
        {changed && (
          <p className="message success" role="status">
            The credits of <code>{changed}</code> were changed.
          </p>
        )}
        <ProblemMessage problem={actionData?.problem} />
        <CreditsForm
          key={formKey}
          initial={actionData?.values ?? { accountId: account, change: 'grant', amount: '', reason: '' }}
          idempotencyKey={formKey}
          fields={actionData?.problem.fields}
        />
      </section>
      <section className="panel" aria-labelledby="accounts-title">
        <h2 id="accounts-title">Accounts</h2>
        {audit ? <Accounts audit={audit} /> : <ProblemMessage problem={loaderData.auditProblem} />}
      </section>
      <section className="panel" aria-labelledby="providers-title">
        <h2 id="providers-title">Provider health</h2>
        {providers ? (
          <Providers providers={providers} />
        ) : (
          <ProblemMessage problem={loaderData.providersProblem} />
        )}
      </section>
      <section className="panel" aria-labelledby="projections-title">
        <h2 id="projections-title">Projection lag</h2>
        {projections ? (
          <Projections projections={projections} />
        ) : (
          <ProblemMessage problem={loaderData.projectionsProblem} />
        )}
      </section>
    </div>
  );
}
