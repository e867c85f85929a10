/**
 * Starts the whole system in this process against the real servers: allocator, booking gateway,
 * query service and edge, each through its own buildApp, with a unique topic/group/key prefix so
 * tests never see each other's messages.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import Redis from 'ioredis';
import { Pool } from 'pg';
import pino from 'pino';
import { changedSlotIdsChannel, createKafka, createPgPool, createRedisClient, type AuthConfig, type KafkaConfig } from '@opd/shared';
import { buildApp as buildAllocator, type AllocatorApp } from '../../services/allocator/src/app';
import { buildApp as buildBooking } from '../../services/booking/src/app';
import { buildApp as buildEdge } from '../../services/edge/src/app';
import { buildApp as buildQuery } from '../../services/query/src/app';
import { testServers } from './servers';

export interface TestSystem {
  prefix: string;
  edgeUrl: string;
  bookingUrl: string;
  queryUrl: string;
  pool: Pool;
  redis: Redis;
  allocators: AllocatorApp[];
  kafkaConfig: KafkaConfig;
  auth: AuthConfig;
  /** Starts one more allocator process in the same group (for rebalance tests). */
  addAllocator(): Promise<AllocatorApp>;
  close(): Promise<void>;
}

export function uniquePrefix(label: string): string {
  return `t-${label}-${randomUUID().slice(0, 8)}.`;
}

const url = (app: FastifyInstance) => `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

export interface SystemOptions {
  label: string;
  replyTimeoutMs?: number;
  partitions?: number;
  /** Most suites test behaviour, not access: they choose AUTH=off explicitly. */
  auth?: 'on' | 'off';
  rateLimitPerSecond?: number;
  /** How long a verified key is trusted (revocation delay). */
  authCacheMs?: number;
  /** The edge's view cache lifetime (default 2000 ms, as in production; 0 = off). */
  viewCacheMs?: number;
  /** Slots an allocator keeps in memory per partition (default: the allocator's). */
  allocatorCachedSlots?: number;
}

export async function startSystem(options: SystemOptions): Promise<TestSystem> {
  const servers = testServers();
  const prefix = uniquePrefix(options.label);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const pool = createPgPool({ connectionString: servers.databaseUrl, max: 12, logger });
  const redis = createRedisClient({ url: servers.redisUrl, logger });
  const kafkaConfig = (clientId: string): KafkaConfig => ({
    brokers: servers.kafkaBrokers,
    clientId,
    topicPrefix: prefix,
    partitions: options.partitions ?? 4,
  });
  const authConfig: AuthConfig = {
    mode: options.auth ?? 'off',
    cacheMs: options.authCacheMs ?? 5000,
    rateLimitPerSecond: options.rateLimitPerSecond ?? 0,
  };
  const apps: FastifyInstance[] = [];
  const allocators: AllocatorApp[] = [];

  async function listen<T extends FastifyInstance>(app: T): Promise<T> {
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    return app;
  }

  /** Starts one more allocator; resolves once it has joined the group. */
  async function addAllocator(): Promise<AllocatorApp> {
    const instanceId = `alloc-${allocators.length + 1}`;
    const app = await buildAllocator(
      { kafka: kafkaConfig(instanceId), groupId: `${prefix}opd-allocator`, instanceId, partitionsConcurrency: 2, cachedSlotsPerPartition: options.allocatorCachedSlots },
      { pool, kafka: createKafka(kafkaConfig(instanceId), logger), logger },
    );
    allocators.push(app);
    await listen(app);
    const deadline = Date.now() + 30_000;
    while (!app.allocator.isRunning()) {
      if (Date.now() > deadline) throw new Error(`${instanceId} did not join its group`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return app;
  }

  const allocator = await addAllocator();
  const query = await listen(
    await buildQuery(
      { kafka: kafkaConfig('query'), redisKeyPrefix: prefix, timeZone: 'UTC', auth: authConfig },
      { pool, redis, kafka: createKafka(kafkaConfig('query'), logger), logger },
    ),
  );
  const booking = await listen(
    await buildBooking(
      {
        kafka: kafkaConfig('booking'),
        instanceId: `booking-${randomUUID().slice(0, 8)}`,
        replyTimeoutMs: options.replyTimeoutMs ?? 8000,
        auth: authConfig,
        redisKeyPrefix: prefix,
      },
      { pool, redis, kafka: createKafka(kafkaConfig('booking'), logger), logger },
    ),
  );
  const edge = await listen(
    await buildEdge(
      {
        bookingUrl: url(booking),
        queryUrl: url(query),
        allocatorUrl: url(allocator),
        corsOrigins: ['https://portal.example'],
        viewCache: { maxAgeMs: options.viewCacheMs ?? 2000, maxBytes: 16 * 1024 * 1024, channel: changedSlotIdsChannel(prefix) },
      },
      { logger, redis },
    ),
  );

  // Services start before their Kafka groups are joined; the edge's /readyz says when all are.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${url(edge)}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`system ${prefix} not ready after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    prefix,
    edgeUrl: url(edge),
    bookingUrl: url(booking),
    queryUrl: url(query),
    pool,
    redis,
    allocators,
    kafkaConfig: kafkaConfig('test'),
    auth: authConfig,
    addAllocator,
    async close() {
      for (const app of apps.reverse()) await app.close().catch(() => undefined);
      await pool.end();
      redis.disconnect();
    },
  };
}
