import { useEffect, useRef } from 'react';
import { Form, Link, useNavigation, useSubmit } from 'react-router';
import type { AuditResult, LedgerEntry, ReplayResult } from '@kiln/contracts/views';
import type { Route } from './+types/billing';
import { chosenStep, replayStepsOf, type ReplayStep } from '../billing/replaySteps.ts';
import { ProblemMessage } from '../components.tsx';
import { credits, signed, timeText } from '../format.ts';
import { kiln } from '../server/kiln.server.ts';
import { requireUser } from '../server/session.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Billing · Kiln' }];

type LedgerPage = { items: LedgerEntry[]; next: string | null };

const kindLabel: Record<LedgerEntry['kind'], string> = {
  opened: 'opened',
  granted: 'grant',
  purchased: 'purchase',
  reserved: 'reserve',
  captured: 'capture',
  released: 'release',
  refunded: 'refund',
  adjusted: 'adjustment',
};

export const loader = async ({ request }: Route.LoaderArgs) => {
  const user = await requireUser(request);
  const url = new URL(request.url);
  const services = kiln();
  const account = `/v1/accounts/${encodeURIComponent(user.accountId)}`;
  const ledgerQuery = new URLSearchParams({ limit: '25' });
  const cursor = url.searchParams.get('cursor');
  if (cursor) ledgerQuery.set('cursor', cursor);
  const [ledger, audit, history] = await Promise.all([
    services.query<LedgerPage>(`/v1/accounts/me/ledger?${ledgerQuery.toString()}`, { request }),
    services.query<AuditResult>(`${account}/audit`, { request }),
    // The account as of now, from a fresh fold: its whole ledger is the replay's timeline.
    services.query<ReplayResult>(`${account}/replay?at=${encodeURIComponent(new Date().toISOString())}`, {
      request,
    }),
  ]);
  const steps = history.ok ? replayStepsOf(history.data.ledger) : [];
  const chosen = chosenStep(steps, url.searchParams.get('step'));
  let replay = history;
  if (chosen && chosen.step < steps.length) {
    const asOf = new URLSearchParams({ position: chosen.position });
    replay = await services.query<ReplayResult>(`${account}/replay?${asOf.toString()}`, { request });
  }
  return {
    accountId: user.accountId,
    ledger: ledger.ok ? ledger.data : null,
    ledgerProblem: ledger.ok ? null : ledger.problem,
    audit: audit.ok ? audit.data : null,
    auditProblem: audit.ok ? null : audit.problem,
    steps,
    chosen,
    replay: replay.ok ? replay.data : null,
    replayProblem: replay.ok ? null : replay.problem,
  };
};

function Audit({ audit }: { audit: AuditResult }) {
  if (audit.matches) {
    return (
      <p className="message success" role="status" data-testid="audit">
        The projection matches the events: a fresh fold of your account’s events gives the same{' '}
        {credits(audit.folded.available)} available and {credits(audit.folded.reserved)} reserved.
      </p>
    );
  }
  return (
    <p className="message error" role="alert" data-testid="audit">
      The projection differs from the events by {signed(audit.difference.available)} available and{' '}
      {signed(audit.difference.reserved)} reserved: the events say {credits(audit.folded.available)}{' '}
      available, the projection {credits(audit.projected.available)}.
    </p>
  );
}

function LedgerTable({ entries, caption }: { entries: LedgerEntry[]; caption: string }) {
  return (
    <div className="table-scroll">
      <table className="ledger">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">What</th>
            <th scope="col">Available</th>
            <th scope="col">Reserved</th>
            <th scope="col">Job</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.eventId} data-kind={entry.kind}>
              <td data-label="When">
                <time dateTime={entry.at}>{timeText(entry.at)}</time>
              </td>
              <td data-label="What">
                <span className={`badge badge-ledger-${entry.kind}`}>{kindLabel[entry.kind]}</span>{' '}
                {entry.description}
              </td>
              <td data-label="Available">
                {signed(entry.availableChange)} → {entry.availableAfter.toLocaleString('en')}
              </td>
              <td data-label="Reserved">
                {signed(entry.reservedChange)} → {entry.reservedAfter.toLocaleString('en')}
              </td>
              <td data-label="Job">
                {entry.jobId ? <Link to={`/jobs/${encodeURIComponent(entry.jobId)}`}>open</Link> : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Moving the slider asks for that step (once it rests a moment); without JavaScript, "Show" does. */
function ReplayForm({ steps, chosen }: { steps: ReplayStep[]; chosen: ReplayStep }) {
  const submit = useSubmit();
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const busy = useNavigation().state === 'loading';
  return (
    <Form
      method="get"
      className="replay-form"
      preventScrollReset
      onChange={(event) => {
        const form = event.currentTarget;
        clearTimeout(timer.current);
        timer.current = setTimeout(() => void submit(form, { replace: true, preventScrollReset: true }), 150);
      }}
    >
      <label htmlFor="replay-step">
        Step {chosen.step} of {steps.length}: {timeText(chosen.at)}
      </label>
      <input
        id="replay-step"
        name="step"
        type="range"
        min={1}
        max={steps.length}
        step={1}
        defaultValue={chosen.step}
        aria-valuetext={`step ${chosen.step} of ${steps.length}, ${chosen.description}`}
        list="replay-steps"
      />
      <datalist id="replay-steps">
        {steps.map((step) => (
          <option key={step.position} value={step.step} label={step.kind} />
        ))}
      </datalist>
      <button type="submit" className="secondary" disabled={busy}>
        Show
      </button>
    </Form>
  );
}

function Replay({
  steps,
  chosen,
  replay,
}: {
  steps: ReplayStep[];
  chosen: ReplayStep;
  replay: ReplayResult;
}) {
  const upToThen = [...replay.ledger].reverse().slice(0, 5);
  return (
    <>
      <ReplayForm steps={steps} chosen={chosen} />
      <p className="replay-balance" data-testid="replay-balance" aria-live="polite">
        As of {timeText(chosen.at)}, after “{chosen.description}”:{' '}
        <strong>{credits(replay.balance.available)} available</strong>, {credits(replay.balance.reserved)}{' '}
        reserved.
      </p>
      <LedgerTable entries={upToThen} caption="The last entries up to then" />
      {replay.ledger.length > upToThen.length && (
        <p className="hint">…and {replay.ledger.length - upToThen.length} earlier entries.</p>
      )}
    </>
  );
}

export default function Billing({ loaderData }: Route.ComponentProps) {
  const { accountId, ledger, ledgerProblem, audit, auditProblem, steps, chosen, replay, replayProblem } =
    loaderData;
  return (
    <div className="billing">
      <section className="panel" aria-labelledby="billing-title">
        <h1 id="billing-title">Billing</h1>
        <p className="hint">
          Account <code data-testid="account-id">{accountId}</code>
        </p>
        {audit ? <Audit audit={audit} /> : <ProblemMessage problem={auditProblem} />}
      </section>
      <section className="panel" aria-labelledby="replay-title">
        <h2 id="replay-title">Replay</h2>
        <p className="hint">
          Your balance as it was after any entry of your ledger, folded afresh from the events up to it.
        </p>
        {replayProblem && <ProblemMessage problem={replayProblem} />}
        {chosen && replay ? (
          <Replay steps={steps} chosen={chosen} replay={replay} />
        ) : (
          !replayProblem && <p className="empty">Nothing to replay yet.</p>
        )}
      </section>
      <section className="panel" aria-labelledby="ledger-title">
        <h2 id="ledger-title">Ledger</h2>
        <ProblemMessage problem={ledgerProblem} />
        {ledger && ledger.items.length === 0 && <p className="empty">No entries yet.</p>}
        {ledger && ledger.items.length > 0 && (
          <LedgerTable entries={ledger.items} caption="Every change to your credits, newest first" />
        )}
        {ledger?.next && (
          <p>
            <Link to={`/billing?${new URLSearchParams({ cursor: ledger.next }).toString()}`}>
              Older entries
            </Link>
          </p>
        )}
      </section>
    </div>
  );
}
