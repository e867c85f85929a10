import { randomUUID } from 'node:crypto';
import { createKafka, kafkaConfigFromEnv, migrate, runService, createPgPool } from '@opd/shared';
import { buildApp } from './app';

runService('allocator', async (env, logger) => {
  const instanceId = env.INSTANCE_ID ?? `allocator-${randomUUID().slice(0, 8)}`;
  const kafkaConfig = kafkaConfigFromEnv(env, instanceId);
  await migrate({ databaseUrl: env.DATABASE_URL, logger });
  // One connection per partition processed at once, plus a few for loads and the relay.
  const pool = createPgPool({ connectionString: env.DATABASE_URL, max: env.KAFKA_PARTITIONS + 4, logger });
  const app = await buildApp(
    {
      kafka: kafkaConfig,
      groupId: `${env.KAFKA_TOPIC_PREFIX}opd-allocator`,
      instanceId,
      partitionsConcurrency: env.KAFKA_PARTITIONS,
      timeZone: env.TIME_ZONE,
    },
    { pool, kafka: createKafka(kafkaConfig, logger), logger },
  );
  await app.listen({ host: env.HOST, port: env.ALLOCATOR_PORT });
  return async () => {
    await app.close();
    await pool.end();
  };
});
