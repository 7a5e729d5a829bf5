import type { Collection, Db, Document } from 'mongodb';
import { ownerOf, projections } from '#src/projections/all.ts';
import type { BalanceDoc, LedgerEntryDoc } from '#src/projections/ledger.ts';
import type { JobDoc } from '#src/projections/jobs.ts';
import type { ProjectedDoc } from '#src/projections/projection.ts';
import type { ProviderHealthDoc } from '#src/projections/providerHealth.ts';
import type { SessionDoc, SessionMemberDoc } from '#src/projections/sessions.ts';
import { ensureState, loadStates, type ProjectionState } from '#src/readModels/projectionState.ts';

type Stored<Doc> = Doc & Pick<ProjectedDoc, 'position'>;

/** The read models by logical name, with the shape of their documents. */
export type ReadModelDocs = {
  jobs: Stored<JobDoc>;
  artifacts: Stored<Document & { _id: string; jobId: string; userId: string }>;
  sessions: Stored<SessionDoc>;
  session_members: Stored<SessionMemberDoc>;
  ledger: Stored<LedgerEntryDoc>;
  balances: Stored<BalanceDoc>;
  provider_health: Stored<ProviderHealthDoc>;
};

/**
 * The read models for the query API: each logical collection resolved to the generation that serves
 * now (a rebuild swaps generations; the mapping is read again at most every `refreshMs`).
 */
export const createReadModels = (db: Db, options: { refreshMs?: number } = {}) => {
  const refreshMs = options.refreshMs ?? 1_000;
  let cached: { at: number; states: Map<string, ProjectionState> } | undefined;

  const currentStates = async () => {
    if (!cached || Date.now() - cached.at > refreshMs) {
      const states = await loadStates(db);
      cached = { at: Date.now(), states: new Map(states.map((state) => [state._id, state])) };
    }
    return cached.states;
  };

  return {
    db,
    async collection<Name extends keyof ReadModelDocs>(name: Name): Promise<Collection<ReadModelDocs[Name]>> {
      const state = (await currentStates()).get(ownerOf(name).name);
      const physical = state?.collections[name];
      if (!physical) throw new Error(`the read model ${name} has not been set up (ensureIndexes)`);
      return db.collection<ReadModelDocs[Name]>(physical);
    },
    /** Every projection's collections and indexes, made at start (never implicitly by a write). */
    async ensureIndexes() {
      for (const projection of projections) await ensureState(db, projection);
      cached = undefined;
    },
    states: async () => [...(await currentStates()).values()],
  };
};

export type ReadModels = ReturnType<typeof createReadModels>;
