import type { Position } from '@kiln/contracts/position';
import type { CommandDatabase } from '#src/adapters/commandDatabase.ts';

/** Where each process manager has got to in `$all`: it resumes after it, so nothing is missed or redone. */
export const createCheckpoints = ({ pool, schema }: CommandDatabase) => ({
  async load(name: string): Promise<Position | undefined> {
    const { rows } = await pool.query<{ position: string }>(
      `select position from ${schema}.checkpoints where name = $1`,
      [name],
    );
    return rows[0]?.position;
  },
  async save(name: string, position: Position): Promise<void> {
    await pool.query(
      `insert into ${schema}.checkpoints (name, position) values ($1, $2)
       on conflict (name) do update set position = excluded.position, updated_at = now()
       where ${schema}.checkpoints.position < excluded.position`,
      [name, position],
    );
  },
});

export type Checkpoints = ReturnType<typeof createCheckpoints>;
