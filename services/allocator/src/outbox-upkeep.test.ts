import type { Pool } from 'pg';
import pino from 'pino';
import { createOutboxUpkeep } from './outbox-upkeep';

/** A pool that answers the autovacuum setting and records what else it is asked. */
function recordingPool(autovacuum: 'on' | 'off') {
  const statements: string[] = [];
  const pool = {
    query: async (sql: string) => {
      if (sql.includes("current_setting('autovacuum')")) return { rows: [{ autovacuum }] };
      statements.push(sql);
      return { rows: [] };
    },
  } as unknown as Pool;
  return { pool, statements };
}

const logger = pino({ level: 'silent' });

describe('outbox upkeep', () => {
  it('vacuums the outbox once per interval when the server does not', async () => {
    let clock = 0;
    const { pool, statements } = recordingPool('off');
    const upkeep = await createOutboxUpkeep(pool, { everyMs: 30_000, logger, now: () => clock });
    expect(upkeep.vacuums).toBe(true);
    await upkeep.runIfDue();
    expect(statements).toEqual([]);
    clock = 30_000;
    await upkeep.runIfDue();
    await upkeep.runIfDue();
    expect(statements).toEqual(['VACUUM (SKIP_LOCKED, ANALYZE) outbox']);
    clock = 60_000;
    await upkeep.runIfDue();
    expect(statements).toHaveLength(2);
  });

  it('leaves the outbox to autovacuum where it is on, and does nothing with an interval of 0', async () => {
    for (const [setting, everyMs] of [['on', 30_000], ['off', 0]] as const) {
      let clock = 0;
      const { pool, statements } = recordingPool(setting);
      const upkeep = await createOutboxUpkeep(pool, { everyMs, logger, now: () => clock });
      clock = 1_000_000;
      await upkeep.runIfDue();
      expect(upkeep.vacuums).toBe(false);
      expect(statements).toEqual([]);
    }
  });
});
