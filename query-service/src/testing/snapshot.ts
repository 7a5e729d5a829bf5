import type { Db } from 'mongodb';
import { loadStates } from '#src/readModels/projectionState.ts';

/** Every read-model document of the live generations, by logical collection, sorted: what two runs compare. */
export const snapshotReadModels = async (db: Db): Promise<Record<string, unknown[]>> => {
  const snapshot: Record<string, unknown[]> = {};
  for (const state of (await loadStates(db)).sort((a, b) => a._id.localeCompare(b._id))) {
    for (const [logical, physical] of Object.entries(state.collections).sort()) {
      const docs = await db.collection(physical).find({}).toArray();
      snapshot[logical] = docs.sort((a, b) => String(a._id).localeCompare(String(b._id)));
    }
  }
  return snapshot;
};
