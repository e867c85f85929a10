import { randomUUID } from 'node:crypto';
import { authConfigFromEnv, createKafka, kafkaConfigFromEnv, runService, createPgPool, createRedisClient } from '@opd/shared';
import { buildApp } from './app';

runService('booking', async (env, logger) => {
  const instanceId = env.INSTANCE_ID ?? `booking-${randomUUID().slice(0, 8)}`;
  const kafkaConfig = kafkaConfigFromEnv(env, instanceId);
  const pool = createPgPool({ connectionString: env.DATABASE_URL, max: 10, logger });
  const redis = createRedisClient({ url: env.REDIS_URL, logger });
  const app = await buildApp(
    {
      kafka: kafkaConfig,
      instanceId,
      replyTimeoutMs: env.REPLY_TIMEOUT_MS,
      auth: authConfigFromEnv(env),
      redisKeyPrefix: env.REDIS_KEY_PREFIX,
    },
    { pool, redis, kafka: createKafka(kafkaConfig, logger), logger },
  );
  await app.listen({ host: env.HOST, port: env.BOOKING_PORT });
  return async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
  };
});
