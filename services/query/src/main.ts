import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { createKafka, createLogger, kafkaConfigFromEnv, parseEnv } from '@opd/shared';
import { buildApp } from './app';

async function main(): Promise<void> {
  const env = parseEnv(process.env);
  const logger = createLogger({ name: 'query', level: env.LOG_LEVEL });
  const instanceId = env.INSTANCE_ID ?? `query-${randomUUID().slice(0, 8)}`;
  const kafkaConfig = kafkaConfigFromEnv(env, instanceId);
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 10 });
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2 });
  const app = await buildApp(
    { kafka: kafkaConfig, redisKeyPrefix: env.REDIS_KEY_PREFIX, timeZone: env.TIME_ZONE },
    { pool, redis, kafka: createKafka(kafkaConfig, logger), logger },
  );
  await app.listen({ host: env.HOST, port: env.QUERY_PORT });

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    await pool.end();
    redis.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
