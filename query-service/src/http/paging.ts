import { z } from 'zod';
import { ApiProblem } from '@kiln/contracts/http/problem';

/** A page's cursor: the sort key of the last item, opaque to clients (base64url JSON). */
export const encodeCursor = (key: unknown): string => Buffer.from(JSON.stringify(key)).toString('base64url');

export const decodeCursor = <Schema extends z.ZodType>(
  cursor: string | undefined,
  schema: Schema,
): z.output<Schema> | undefined => {
  if (cursor === undefined) return undefined;
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ApiProblem('validation_failed', 'the cursor is not one this API gave out', {
      details: [{ path: 'query.cursor', message: 'unknown cursor' }],
    });
  }
};

export const Limit = z.coerce.number().int().min(1).max(100).default(20);
