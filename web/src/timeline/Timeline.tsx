import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import type { DeliveredEvent } from '@kiln/contracts/realtime';
import { timeText } from '../format.ts';
import { activityText } from '../jobs/activity.ts';

/**
 * Scrubbing through what happened: a slider over every event (and links, without JavaScript), the event
 * at the chosen step, and the state right after it.
 */
export function Timeline<Entry extends { event: DeliveredEvent }>({
  entries,
  initialStep,
  basePath,
  cut,
  total,
  renderState,
}: {
  entries: Entry[];
  initialStep: number;
  /** The page's own path: `?step=` links go to it. */
  basePath: string;
  cut: boolean;
  total: number;
  renderState: (entry: Entry) => ReactNode;
}) {
  const [step, setStep] = useState(initialStep);
  const entry = entries[step - 1];
  if (!entry) return <p className="empty">Nothing has happened yet.</p>;
  const stepLink = (to: number) => `${basePath}?step=${to}`;
  return (
    <div className="timeline">
      <div className="timeline-controls">
        <label htmlFor="timeline-step">
          Event {step} of {entries.length}: {activityText(entry.event)}
        </label>
        <input
          id="timeline-step"
          type="range"
          min={1}
          max={entries.length}
          step={1}
          value={step}
          onChange={(event) => setStep(Number(event.currentTarget.value))}
          aria-valuetext={`event ${step} of ${entries.length}: ${activityText(entry.event)}`}
        />
        <nav aria-label="Steps" className="timeline-steps">
          {step > 1 ? (
            <Link
              to={stepLink(step - 1)}
              onClick={(click) => (click.preventDefault(), setStep(step - 1))}
              preventScrollReset
            >
              ← Earlier
            </Link>
          ) : (
            <span aria-hidden="true" />
          )}
          {step < entries.length && (
            <Link
              to={stepLink(step + 1)}
              onClick={(click) => (click.preventDefault(), setStep(step + 1))}
              preventScrollReset
            >
              Later →
            </Link>
          )}
        </nav>
        {cut && (
          <p className="hint">
            Showing the first {entries.length.toLocaleString('en')} of {total.toLocaleString('en')} events.
          </p>
        )}
      </div>
      <section className="timeline-at" aria-labelledby="timeline-at-title" aria-live="polite">
        <h2 id="timeline-at-title">
          After “{activityText(entry.event)}” at{' '}
          <time dateTime={entry.event.metadata.at}>{timeText(entry.event.metadata.at)}</time>
        </h2>
        <div data-testid="timeline-state">{renderState(entry)}</div>
      </section>
      <ol className="timeline-events" aria-label="Every event">
        {entries.map((each, index) => (
          <li key={each.event.position} aria-current={index + 1 === step ? 'step' : undefined}>
            <Link
              to={stepLink(index + 1)}
              onClick={(click) => (click.preventDefault(), setStep(index + 1))}
              preventScrollReset
            >
              <time dateTime={each.event.metadata.at}>{timeText(each.event.metadata.at).slice(12)}</time>{' '}
              {activityText(each.event)}
            </Link>
          </li>
        ))}
      </ol>
    </div>
  );
}
