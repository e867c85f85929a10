import type { FastifyInstance } from 'fastify';
import type Redis from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import {
  createHttpApp,
  ensureTopics,
  registerKeyAuth,
  registerHealthRoutes,
  topicNames,
  type AuthConfig,
  type KafkaConfig,
} from '@opd/shared';
import { createLiveReads } from './live-reads';
import { createReadAccess, isPublicRead } from './read-access';
import { registerLiveRoutes } from './live-routes';
import { createProjector } from './projector';
import { registerReadRoutes } from './read-routes';
import { createViewStore } from './view-store';

export interface QueryConfig {
  kafka: KafkaConfig;
  redisKeyPrefix: string;
  /** Time zone in which `date=` of GET /api/slots is read. */
  timeZone: string;
  auth: AuthConfig;
}

export interface QueryDeps {
  pool: Pool;
  redis: Redis;
  kafka: Kafka;
  logger: Logger;
}

/** The query service: projects slot snapshots into Redis and serves every read from there. */
export async function buildApp(config: QueryConfig, deps: QueryDeps): Promise<FastifyInstance> {
  const app = createHttpApp(deps.logger);
  const topics = topicNames(config.kafka.topicPrefix);
  const store = createViewStore(deps.redis, config.redisKeyPrefix);
  const projector = createProjector({
    kafka: deps.kafka,
    topic: topics.events,
    groupId: `${config.kafka.topicPrefix}opd-query-projector`,
    store,
    pool: deps.pool,
    logger: deps.logger,
  });

  registerHealthRoutes(app, {
    postgres: () => deps.pool.query('SELECT 1'),
    redis: () => deps.redis.ping(),
    kafka: async () => {
      if (!projector.isRunning()) throw new Error('projector not running');
    },
  });
  registerKeyAuth(app, { pool: deps.pool, redis: deps.redis, auth: config.auth, redisKeyPrefix: config.redisKeyPrefix, isPublic: isPublicRead });
  const reads = createLiveReads({ store, pool: deps.pool, timeZone: config.timeZone });
  const access = createReadAccess(reads);
  registerReadRoutes(app, { reads, access, pool: deps.pool, timeZone: config.timeZone });
  // SSE streams (one Redis subscriber per app), branch slot listing, /display and /t pages.
  registerLiveRoutes(app, { store, reads, access, pool: deps.pool, redis: deps.redis, logger: deps.logger, timeZone: config.timeZone });

  app.addHook('onReady', async () => {
    await ensureTopics(deps.kafka, topics, config.kafka.partitions);
    await projector.start();
  });
  app.addHook('onClose', () => projector.stop());
  return app;
}
