import { jobsProjection } from '#src/projections/jobs.ts';
import { ledgerProjection } from '#src/projections/ledger.ts';
import type { Projection } from '#src/projections/projection.ts';
import { providerHealthProjection } from '#src/projections/providerHealth.ts';
import { sessionsProjection } from '#src/projections/sessions.ts';

/** Every projection the query service keeps, by name. */
export const projections: readonly Projection[] = [
  jobsProjection,
  sessionsProjection,
  ledgerProjection,
  providerHealthProjection,
];

export const projectionNamed = (name: string): Projection | undefined =>
  projections.find((projection) => projection.name === name);

/** Which projection owns a logical collection. */
export const ownerOf = (collection: string): Projection => {
  const owner = projections.find((projection) => collection in projection.collections);
  if (!owner) throw new Error(`no projection keeps a collection named ${collection}`);
  return owner;
};
