import type { ReactNode } from 'react';
import type { Problem } from './server/kiln.server.ts';

/** An error from the services, as a sentence; its reference helps whoever reads the logs. */
export function ProblemMessage({ problem }: { problem: Problem | null | undefined }) {
  if (!problem) return null;
  return (
    <div className="message error" role="alert">
      <p>{problem.message}</p>
      {problem.correlationId && <p className="reference">Reference: {problem.correlationId}</p>}
    </div>
  );
}

/** A labelled input with its own error message tied to it for screen readers. */
export function Field({
  name,
  label,
  error,
  hint,
  children,
}: {
  name: string;
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  children: (props: {
    id: string;
    name: string;
    'aria-invalid': boolean;
    'aria-describedby': string | undefined;
  }) => ReactNode;
}) {
  const id = `field-${name}`;
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, name, 'aria-invalid': Boolean(error), 'aria-describedby': described || undefined })}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
