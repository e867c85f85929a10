import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { createHttpApp, registerHealthRoutes } from '@opd/shared';
import { createAllocator, type Allocator, type AllocatorConfig } from './allocator';

export interface AllocatorAppConfig extends AllocatorConfig {}

export interface AllocatorAppDeps {
  pool: Pool;
  kafka: Kafka;
  logger: Logger;
}

export type AllocatorApp = FastifyInstance & { allocator: Allocator };

/**
 * The allocator process: the consumer that owns slots, plus /healthz and /readyz.
 * The allocator starts when the app is ready and stops when it closes.
 */
export async function buildApp(config: AllocatorAppConfig, deps: AllocatorAppDeps): Promise<AllocatorApp> {
  const app = createHttpApp(deps.logger);
  const allocator = createAllocator({ config, pool: deps.pool, kafka: deps.kafka, logger: deps.logger });
  app.decorate('allocator', allocator);
  registerHealthRoutes(app, {
    postgres: () => deps.pool.query('SELECT 1'),
    kafka: async () => {
      if (!allocator.isRunning()) throw new Error('consumer not running');
    },
  });
  app.get('/stats', async () => allocator.stats());
  app.addHook('onReady', () => allocator.start());
  app.addHook('onClose', () => allocator.stop());
  return app as AllocatorApp;
}
