/**
 * The outbox is a queue table: every batch inserts a row and deletes it once Kafka has it, so
 * without VACUUM it is soon mostly dead rows, and the table and its indexes only grow. Where the
 * server's autovacuum is off (this project's CI machine has it off), the allocator vacuums the
 * outbox itself; where it is on, PostgreSQL's own upkeep is left alone.
 */
import type { Pool } from 'pg';
import type { Logger } from 'pino';

export interface OutboxUpkeep {
  /** True when this allocator vacuums the outbox (the server's autovacuum is off). */
  readonly vacuums: boolean;
  /** Vacuums the outbox if it is due; called from the relay timer. */
  runIfDue(): Promise<void>;
}

export async function createOutboxUpkeep(pool: Pool, options: { everyMs: number; logger: Logger; now?: () => number }): Promise<OutboxUpkeep> {
  const now = options.now ?? Date.now;
  const { rows } = await pool.query<{ autovacuum: string }>("SELECT current_setting('autovacuum') AS autovacuum");
  const vacuums = rows[0]?.autovacuum !== 'on' && options.everyMs > 0;
  if (vacuums) options.logger.warn({ everyMs: options.everyMs }, 'PostgreSQL autovacuum is off: the allocator vacuums the outbox itself');
  let last = now();
  return {
    vacuums,
    async runIfDue() {
      if (!vacuums || now() - last < options.everyMs) return;
      last = now();
      // SKIP_LOCKED: another allocator vacuuming it at this moment is as good. ANALYZE too: with
      // autovacuum off nothing else refreshes the planner's idea of the table.
      await pool.query('VACUUM (SKIP_LOCKED, ANALYZE) outbox');
    },
  };
}
