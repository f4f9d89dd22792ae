/**
 * RoomkeyPgClient's prepared statements, against the real PostgreSQL server (DATABASE_URL; the
 * embedded database has no such driver, so there is nothing to check without it): a text marked
 * with `prepared` is parsed once per connection and run by name, anything else stays unnamed.
 */
import { randomUUID } from 'node:crypto';
import { type QueryResult, type QueryResultRow } from 'pg';
import { RoomkeyPgClient, prepared } from './pg-client';

const url = process.env.DATABASE_URL;
const onPostgres = url ? describe : describe.skip;

onPostgres('RoomkeyPgClient prepared statements (PostgreSQL)', () => {
  let client: RoomkeyPgClient;
  /** The promise form TypeORM uses (RoomkeyPgClient types its overloaded query as never). */
  const query = <R extends QueryResultRow>(text: string, values?: unknown[]) =>
    client.query(text, values) as Promise<QueryResult<R>>;

  beforeEach(async () => {
    client = new RoomkeyPgClient({ connectionString: url });
    await client.connect();
  });
  afterEach(() => client.end());

  const statements = async () =>
    (
      await query<{ name: string; statement: string }>(
        'SELECT name, statement FROM pg_prepared_statements ORDER BY name',
      )
    ).rows;

  it('should run a marked text by one name, prepared once, with new values each time', async () => {
    // A text of its own (the mark is process-wide), so no other test can have prepared it here.
    const text = prepared(`SELECT $1::int + 1 AS n, '${randomUUID()}' AS tag`);
    const first = await query<{ n: number }>(text, [1]);
    const second = await query<{ n: number }>(text, [41]);

    expect([first.rows[0].n, second.rows[0].n]).toEqual([2, 42]);
    const named = (await statements()).filter((s) => s.statement === text);
    expect(named).toHaveLength(1);
    expect(named[0].name).toMatch(/^rk_[0-9a-f]{32}$/);
  });

  it('should give two marked texts two names, and leave an unmarked text unnamed', async () => {
    const a = prepared(`SELECT 1 AS a, '${randomUUID()}' AS tag`);
    const b = prepared(`SELECT 2 AS b, '${randomUUID()}' AS tag`);
    const plain = `SELECT 3 AS c, '${randomUUID()}' AS tag`;
    await query(a);
    await query(b);
    await query(plain);

    const seen = await statements();
    const names = seen.filter((s) => s.statement === a || s.statement === b).map((s) => s.name);
    expect(new Set(names).size).toBe(2);
    expect(seen.some((s) => s.statement === plain)).toBe(false);
  });

  it('should still apply a read timeout override to a marked text', async () => {
    const text = prepared(`SELECT pg_sleep($1::float8), '${randomUUID()}' AS tag`);
    client.readTimeoutOverrideMs = 200;
    await expect(query(text, [2])).rejects.toThrow('Query read timeout');
  });
});
