import { LRUCache } from 'lru-cache';
import { MongoBulkWriteError, type AnyBulkWriteOperation, type Db } from 'mongodb';
import type { Position } from '@kiln/contracts/position';
import { refKey, type DocRef, type ProjectedDoc, type Projection } from '#src/projections/projection.ts';
import type { CollectionNames } from '#src/readModels/projectionState.ts';

const DUPLICATE_KEY = 11000;
/**
 * FerretDB v1 holds a PostgreSQL connection for every statement of one update command until the command
 * ends, so a long bulk of replaces drains its pool and hangs it: replaces go a few at a time.
 */
const REPLACES_PER_COMMAND = 8;

/** Someone else wrote a document this projector was about to write: reload from the checkpoint. */
export class ProjectionConflict extends Error {
  constructor(collection: string, detail: string) {
    super(`${collection}: ${detail}; another projector wrote it`);
    this.name = 'ProjectionConflict';
  }
}

type Known = { doc: ProjectedDoc | undefined; stored: Position | null };

/**
 * The documents a projector works on between two checkpoints. Folded documents are read once (then kept in
 * a bounded cache), changed in memory and written back when flushed: new ones inserted, changed ones
 * replaced on the condition that they still carry the position they were read with (compare-and-set, so
 * two projectors writing the same generation notice each other). Appended documents are inserted, and
 * one already there (a replay after a crash) is simply kept.
 */
export class DocumentBuffer {
  private readonly dirty = new Map<string, { ref: DocRef; known: Known; doc: ProjectedDoc }>();
  private readonly clean: LRUCache<string, Known>;
  private appended = new Map<string, ProjectedDoc[]>();
  /** Ids this buffer has written into collections that started empty (a rebuild), so a miss needs no read. */
  private readonly written: Set<string> | undefined;
  private readonly db: Db;
  private readonly projection: Projection;
  private readonly names: CollectionNames;

  constructor(
    db: Db,
    projection: Projection,
    names: CollectionNames,
    options: { cacheSize?: number; startsEmpty?: boolean } = {},
  ) {
    this.db = db;
    this.projection = projection;
    this.names = names;
    this.clean = new LRUCache({ max: options.cacheSize ?? 20_000 });
    this.written = options.startsEmpty ? new Set() : undefined;
  }

  get size() {
    return this.dirty.size + [...this.appended.values()].reduce((sum, docs) => sum + docs.length, 0);
  }

  get(ref: DocRef): ProjectedDoc | undefined {
    const key = refKey(ref);
    return this.dirty.get(key)?.doc ?? this.clean.get(key)?.doc;
  }

  /** Reads the folded documents not yet known, one query per collection. */
  async load(refs: readonly DocRef[]) {
    const missing = new Map<string, Set<string>>();
    for (const ref of refs) {
      const key = refKey(ref);
      if (this.dirty.has(key) || this.clean.has(key)) continue;
      if (this.written && !this.written.has(key)) {
        this.clean.set(key, { doc: undefined, stored: null });
        continue;
      }
      const ids = missing.get(ref.collection) ?? new Set<string>();
      missing.set(ref.collection, ids.add(ref.id));
    }
    for (const [collection, ids] of missing) {
      const found = await this.db
        .collection<ProjectedDoc>(this.physical(collection))
        .find({ _id: { $in: [...ids] } })
        .toArray();
      const byId = new Map(found.map((doc) => [doc._id, doc]));
      for (const id of ids) {
        const doc = byId.get(id);
        this.clean.set(refKey({ collection, id }), { doc, stored: doc?.position ?? null });
      }
    }
  }

  set(ref: DocRef, doc: ProjectedDoc) {
    const key = refKey(ref);
    const known = this.dirty.get(key)?.known ?? this.clean.get(key) ?? { doc: undefined, stored: null };
    this.dirty.set(key, { ref, known, doc });
  }

  append(collection: string, doc: ProjectedDoc) {
    const docs = this.appended.get(collection) ?? [];
    docs.push(doc);
    this.appended.set(collection, docs);
  }

  /** Writes everything pending, in the projection's write order (see Projection). */
  async flush() {
    for (const [collection, docs] of this.appended) await this.insertAppended(collection, docs);
    this.appended = new Map();
    const byCollection = new Map<
      string,
      Array<{ key: string; ref: DocRef; known: Known; doc: ProjectedDoc }>
    >();
    for (const [key, change] of this.dirty) {
      const list = byCollection.get(change.ref.collection) ?? [];
      list.push({ key, ...change });
      byCollection.set(change.ref.collection, list);
    }
    for (const collection of Object.keys(this.projection.collections)) {
      const changes = byCollection.get(collection);
      if (changes) await this.writeFolded(collection, changes);
    }
    for (const [key, { doc }] of this.dirty) {
      this.clean.set(key, { doc, stored: doc.position });
      this.written?.add(key);
    }
    this.dirty.clear();
  }

  /** Forgets everything (after a failed write: what is stored is no longer known). */
  reset() {
    this.dirty.clear();
    this.clean.clear();
    this.appended = new Map();
  }

  private physical(collection: string) {
    const name = this.names[collection];
    if (!name) throw new Error(`projection ${this.projection.name} has no collection ${collection}`);
    return name;
  }

  private async insertAppended(collection: string, docs: ProjectedDoc[]) {
    try {
      await this.db.collection<ProjectedDoc>(this.physical(collection)).insertMany(docs, { ordered: false });
    } catch (error) {
      const onlyDuplicates =
        error instanceof MongoBulkWriteError &&
        [error.writeErrors].flat().every((writeError: { code: number }) => writeError.code === DUPLICATE_KEY);
      if (!onlyDuplicates) throw error;
    }
  }

  private async writeFolded(collection: string, changes: Array<{ known: Known; doc: ProjectedDoc }>) {
    const target = this.db.collection<ProjectedDoc>(this.physical(collection));
    const inserts = changes.filter((change) => change.known.stored === null).map((change) => change.doc);
    const replaces: AnyBulkWriteOperation<ProjectedDoc>[] = changes
      .filter((change) => change.known.stored !== null)
      .map(({ known, doc }) => ({
        replaceOne: { filter: { _id: doc._id, position: known.stored as Position }, replacement: doc },
      }));
    if (inserts.length > 0) {
      try {
        await target.insertMany(inserts, { ordered: false });
      } catch (error) {
        if (error instanceof MongoBulkWriteError)
          throw new ProjectionConflict(collection, 'a new document exists');
        throw error;
      }
    }
    for (let from = 0; from < replaces.length; from += REPLACES_PER_COMMAND) {
      const chunk = replaces.slice(from, from + REPLACES_PER_COMMAND);
      const result = await target.bulkWrite(chunk, { ordered: true });
      if (result.matchedCount !== chunk.length)
        throw new ProjectionConflict(collection, 'a document changed since it was read');
    }
  }
}
