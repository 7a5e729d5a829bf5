import { MongoServerError, type Db, type IndexDescription } from 'mongodb';
import type { Position } from '@kiln/contracts/position';
import type { Projection } from '#src/projections/projection.ts';

/** Logical collection name → the physical collection that holds it now. */
export type CollectionNames = Record<string, string>;

/**
 * One document per projection in `projection_state`: which generation of its collections serves reads,
 * the checkpoint of that generation, and a rebuild under way (its own generation and checkpoint). A
 * rebuild's swap is one update of this document, so readers and the live projector move over at once.
 */
export type ProjectionState = {
  _id: string;
  generation: number;
  collections: CollectionNames;
  position: Position | null;
  updatedAt: string;
  rebuilding?: {
    generation: number;
    collections: CollectionNames;
    position: Position | null;
    startedAt: string;
  };
};

export const STATE_COLLECTION = 'projection_state';
const NAMESPACE_EXISTS = 48;
const DUPLICATE_KEY = 11000;

const states = (db: Db) => db.collection<ProjectionState>(STATE_COLLECTION);

export const collectionNamesOf = (projection: Projection, generation: number): CollectionNames =>
  Object.fromEntries(
    Object.keys(projection.collections).map((logical) => [logical, `${logical}_g${generation}`]),
  );

/** One index at a time, only those missing: FerretDB v1 breaks the connection on a batch of existing ones. */
const createMissingIndexes = async (db: Db, physical: string, indexes: readonly IndexDescription[]) => {
  const collection = db.collection(physical);
  const listed = (await collection.listIndexes().toArray()) as Array<{ key?: unknown }>;
  const existing = new Set(listed.map((index) => JSON.stringify(index.key)));
  for (const index of indexes) {
    if (!existing.has(JSON.stringify(index.key))) await collection.createIndexes([index]);
  }
};

/**
 * Creates a generation's collections and their indexes, one after another and explicitly: FerretDB v1
 * can run out of PostgreSQL connections when collections are created implicitly by concurrent writes.
 */
export const createCollections = async (db: Db, projection: Projection, names: CollectionNames) => {
  for (const [logical, physical] of Object.entries(names)) {
    await db.createCollection(physical).catch((error: unknown) => {
      if (!(error instanceof MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
    });
    await createMissingIndexes(db, physical, projection.collections[logical]?.indexes ?? []);
  }
};

export const loadState = async (db: Db, name: string): Promise<ProjectionState | null> =>
  states(db).findOne({ _id: name });

export const loadStates = async (db: Db): Promise<ProjectionState[]> => states(db).find({}).toArray();

/** The projection's state, made on first use (generation 1, from position zero); indexes made sure of. */
export const ensureState = async (db: Db, projection: Projection): Promise<ProjectionState> => {
  const existing = await loadState(db, projection.name);
  if (existing) {
    await createCollections(db, projection, existing.collections);
    return existing;
  }
  const collections = collectionNamesOf(projection, 1);
  await createCollections(db, projection, collections);
  const state: ProjectionState = {
    _id: projection.name,
    generation: 1,
    collections,
    position: null,
    updatedAt: new Date().toISOString(),
  };
  try {
    await states(db).insertOne(state);
    return state;
  } catch (error) {
    if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) {
      const raced = await loadState(db, projection.name);
      if (raced) return raced;
    }
    throw error;
  }
};

/** Moves the live checkpoint; false when the generation is no longer the live one (a rebuild swapped). */
export const saveCheckpoint = async (db: Db, name: string, generation: number, position: Position) =>
  (
    await states(db).updateOne(
      { _id: name, generation },
      { $set: { position, updatedAt: new Date().toISOString() } },
    )
  ).matchedCount === 1;

/** Starts a rebuild into a new generation, or returns the one already under way (to resume it). */
export const claimRebuild = async (
  db: Db,
  projection: Projection,
): Promise<{
  state: ProjectionState;
  rebuilding: NonNullable<ProjectionState['rebuilding']>;
  resumed: boolean;
}> => {
  const state = await ensureState(db, projection);
  if (state.rebuilding) return { state, rebuilding: state.rebuilding, resumed: true };
  const generation = state.generation + 1;
  const rebuilding = {
    generation,
    collections: collectionNamesOf(projection, generation),
    position: null,
    startedAt: new Date().toISOString(),
  };
  await createCollections(db, projection, rebuilding.collections);
  const claimed = await states(db).updateOne(
    { _id: projection.name, rebuilding: { $exists: false } },
    { $set: { rebuilding } },
  );
  if (claimed.matchedCount !== 1)
    throw new Error(`a rebuild of ${projection.name} started at the same moment`);
  return { state, rebuilding, resumed: false };
};

export const saveRebuildCheckpoint = async (db: Db, name: string, generation: number, position: Position) => {
  const saved = await states(db).updateOne(
    { _id: name, 'rebuilding.generation': generation },
    { $set: { 'rebuilding.position': position } },
  );
  if (saved.matchedCount !== 1)
    throw new Error(`the rebuild of ${name} (generation ${generation}) was taken away`);
};

/** The swap: the rebuilt generation serves reads and the live projector goes on from its position. */
export const swapInRebuild = async (db: Db, name: string, generation: number) => {
  const state = await loadState(db, name);
  if (state?.rebuilding?.generation !== generation)
    throw new Error(`the rebuild of ${name} (generation ${generation}) was taken away`);
  const swapped = await states(db).updateOne(
    { _id: name, 'rebuilding.generation': generation },
    {
      $set: {
        generation,
        collections: state.rebuilding.collections,
        position: state.rebuilding.position,
        updatedAt: new Date().toISOString(),
      },
      $unset: { rebuilding: '' },
    },
  );
  if (swapped.matchedCount !== 1) throw new Error(`the rebuild of ${name} could not be swapped in`);
  return { retired: state.collections };
};
