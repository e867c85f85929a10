import { parseEnv } from '../config';
import { createLogger } from '../logger';
import { migrate } from './migrate';

async function main(): Promise<void> {
  const env = parseEnv(process.env);
  const logger = createLogger({ name: 'migrate', level: env.LOG_LEVEL });
  const applied = await migrate({ databaseUrl: env.DATABASE_URL, logger });
  logger.info({ applied: applied.length }, applied.length ? 'migrations applied' : 'database is up to date');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
