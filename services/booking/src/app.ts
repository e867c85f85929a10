import type { FastifyInstance } from 'fastify';
import type Redis from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import {
  createHttpApp,
  createProducer,
  ensureTopics,
  registerKeyAuth,
  registerHealthRoutes,
  topicNames,
  type AuthConfig,
  type KafkaConfig,
} from '@opd/shared';
import { createAccess } from './access';
import { registerAuditLog } from './audit-log';
import { createCommandBus } from './command-bus';
import { createIdempotencyStore } from './idempotency-store';
import { createReplyWaiter } from './reply-waiter';
import { registerSetupRoutes } from './routes/setup-routes';
import { registerSlotAdminRoutes } from './routes/slot-admin-routes';
import { registerTokenRoutes } from './routes/token-routes';

export interface BookingConfig {
  kafka: KafkaConfig;
  /** Unique per gateway process: replies are addressed to it. */
  instanceId: string;
  replyTimeoutMs: number;
  auth: AuthConfig;
  /** Prefix of this deployment's Redis keys (rate-limit counters). */
  redisKeyPrefix: string;
}

export interface BookingDeps {
  pool: Pool;
  kafka: Kafka;
  /** Shared rate-limit counters, so a key's limit holds across gateway instances. */
  redis: Redis;
  logger: Logger;
}

/** The booking gateway: validates writes, publishes them as commands keyed by slot, relays decisions. */
export async function buildApp(config: BookingConfig, deps: BookingDeps): Promise<FastifyInstance> {
  const app = createHttpApp(deps.logger);
  const topics = topicNames(config.kafka.topicPrefix);
  const producer = createProducer(deps.kafka);
  const waiter = createReplyWaiter({
    kafka: deps.kafka,
    topic: topics.replies,
    instanceId: config.instanceId,
    groupId: `${config.kafka.topicPrefix}opd-gateway-${config.instanceId}`,
    logger: deps.logger,
  });
  let producerConnected = false;
  producer.on(producer.events.CONNECT, () => (producerConnected = true));
  producer.on(producer.events.DISCONNECT, () => (producerConnected = false));
  const bus = createCommandBus({
    producer,
    topic: topics.commands,
    waiter,
    replyTimeoutMs: config.replyTimeoutMs,
    isConnected: () => producerConnected && waiter.isReady(),
  });
  const ctx = {
    instanceId: config.instanceId,
    pool: deps.pool,
    bus,
    idempotency: createIdempotencyStore(deps.pool),
    access: createAccess(deps.pool),
  };

  registerHealthRoutes(app, {
    postgres: () => deps.pool.query('SELECT 1'),
    kafka: async () => {
      if (!producerConnected) throw new Error('producer not connected');
      if (!waiter.isReady()) throw new Error('reply consumer not ready');
    },
  });
  registerKeyAuth(app, { pool: deps.pool, redis: deps.redis, auth: config.auth, redisKeyPrefix: config.redisKeyPrefix });
  const audit = registerAuditLog(app, deps.pool, deps.logger);
  registerSetupRoutes(app, ctx);
  registerTokenRoutes(app, ctx);
  registerSlotAdminRoutes(app, ctx);

  // Kafka may be down when the gateway starts: it starts anyway, answers 503 (readiness says why)
  // and keeps trying to connect in the background.
  let closing = false;
  let retryTimer: NodeJS.Timeout | null = null;
  async function connectKafka(): Promise<void> {
    try {
      await ensureTopics(deps.kafka, topics, config.kafka.partitions);
      await producer.connect();
      await waiter.start();
    } catch (err) {
      if (closing) return;
      deps.logger.warn({ err: (err as Error).message }, 'Kafka not reachable; retrying');
      retryTimer = setTimeout(() => void connectKafka(), 2000);
    }
  }
  app.addHook('onReady', async () => {
    // Not awaited: joining the reply group may take longer than a start-up hook may; /readyz tells when.
    void connectKafka();
  });
  app.addHook('onClose', async () => {
    closing = true;
    if (retryTimer) clearTimeout(retryTimer);
    await bus.flush();
    await audit.close();
    await waiter.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  });
  return app;
}
