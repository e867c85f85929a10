import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createKafka, createLogger, kafkaConfigFromEnv, migrate, parseEnv } from '@opd/shared';
import { buildApp } from './app';

async function main(): Promise<void> {
  const env = parseEnv(process.env);
  const logger = createLogger({ name: 'allocator', level: env.LOG_LEVEL });
  const instanceId = env.INSTANCE_ID ?? `allocator-${randomUUID().slice(0, 8)}`;
  await migrate({ databaseUrl: env.DATABASE_URL, logger });
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 8 });
  const kafka = createKafka(kafkaConfigFromEnv(env, instanceId), logger);
  const app = await buildApp(
    {
      kafka: kafkaConfigFromEnv(env, instanceId),
      groupId: `${env.KAFKA_TOPIC_PREFIX}opd-allocator`,
      instanceId,
      partitionsConcurrency: 4,
    },
    { pool, kafka, logger },
  );
  await app.listen({ host: env.HOST, port: env.ALLOCATOR_PORT });

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
