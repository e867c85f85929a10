import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createKafka, createLogger, kafkaConfigFromEnv, parseEnv } from '@opd/shared';
import { buildApp } from './app';

async function main(): Promise<void> {
  const env = parseEnv(process.env);
  const logger = createLogger({ name: 'booking', level: env.LOG_LEVEL });
  const instanceId = env.INSTANCE_ID ?? `booking-${randomUUID().slice(0, 8)}`;
  const kafkaConfig = kafkaConfigFromEnv(env, instanceId);
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 10 });
  const app = await buildApp(
    { kafka: kafkaConfig, instanceId, replyTimeoutMs: env.REPLY_TIMEOUT_MS },
    { pool, kafka: createKafka(kafkaConfig, logger), logger },
  );
  await app.listen({ host: env.HOST, port: env.BOOKING_PORT });

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
