import { describe, expect, it } from 'vitest';
import { readModelDatabaseOf } from '#src/config.ts';

describe('the read models database', () => {
  it('is the path of MONGO_URL, or kiln when it names none', () => {
    expect(readModelDatabaseOf('mongodb://127.0.0.1:27027/')).toBe('kiln');
    expect(readModelDatabaseOf('mongodb://127.0.0.1:27027')).toBe('kiln');
    expect(readModelDatabaseOf('mongodb://127.0.0.1:27027/reads?directConnection=true')).toBe('reads');
    expect(readModelDatabaseOf('mongodb://a:27017,b:27017/kiln_prod?replicaSet=rs0')).toBe('kiln_prod');
    expect(readModelDatabaseOf('mongodb+srv://user:pw@cluster.example.net/?retryWrites=true')).toBe('kiln');
  });
});
