/**
 * Outbox upkeep against the real PostgreSQL (whose autovacuum is off on this project's machines):
 * the allocator's vacuum runs (it cannot inside a transaction) and the stale-row sweep still finds
 * a row left behind among thousands of deleted ones.
 */
import { Pool } from 'pg';
import pino from 'pino';
import { randomUUID } from 'node:crypto';
import { createOutboxUpkeep } from '../../services/allocator/src/outbox-upkeep';
import { testServers } from '../support/servers';

let pool: Pool;
beforeAll(() => {
  pool = new Pool({ connectionString: testServers().databaseUrl, max: 2 });
});
afterAll(async () => {
  await pool?.end();
});

describe('outbox upkeep', () => {
  it('vacuums the outbox when the server does not, and the sweep finds stale rows by age', async () => {
    const { rows } = await pool.query<{ autovacuum: string }>("SELECT current_setting('autovacuum') AS autovacuum");
    let clock = 0;
    const upkeep = await createOutboxUpkeep(pool, { everyMs: 1000, logger: pino({ level: 'silent' }), now: () => clock });
    expect(upkeep.vacuums).toBe(rows[0].autovacuum !== 'on');

    // A busy minute of one partition: rows written and deleted once published.
    const topic = `upkeep-${randomUUID().slice(0, 8)}`;
    await pool.query(
      `INSERT INTO outbox (source_topic, kafka_partition, messages, created_at)
       SELECT $1, 0, '[]'::jsonb, now() - interval '1 minute' FROM generate_series(1, 5000)`,
      [topic],
    );
    await pool.query('DELETE FROM outbox WHERE source_topic = $1', [topic]);
    const left = await pool.query(`INSERT INTO outbox (source_topic, kafka_partition, messages, created_at) VALUES ($1, 0, '[]', now() - interval '1 minute') RETURNING id`, [topic]);

    // The sweep's question finds the one row left behind among the deleted ones.
    const sweep = `SELECT id FROM outbox WHERE source_topic = $1 AND kafka_partition = ANY($2::int[])
                     AND created_at < now() - make_interval(secs => 5) ORDER BY id LIMIT 1000`;
    expect((await pool.query(sweep, [topic, [0]])).rows).toEqual([{ id: left.rows[0].id }]);

    if (upkeep.vacuums) {
      const before = await pool.query<{ at: Date | null }>("SELECT last_vacuum AS at FROM pg_stat_user_tables WHERE relname = 'outbox'");
      clock = 1000;
      await upkeep.runIfDue();
      const after = await pool.query<{ at: Date | null }>("SELECT last_vacuum AS at FROM pg_stat_user_tables WHERE relname = 'outbox'");
      expect(after.rows[0].at).not.toBeNull();
      expect(after.rows[0].at!.getTime()).toBeGreaterThan(before.rows[0].at?.getTime() ?? 0);
    }
    await pool.query('DELETE FROM outbox WHERE source_topic = $1', [topic]);
  });
});
