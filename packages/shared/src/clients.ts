/**
 * PostgreSQL and Redis clients with the error listeners a long-running service needs: when the
 * server restarts, idle connections emit 'error', which would crash a process without a listener.
 * The pool replaces broken connections and ioredis reconnects by itself.
 */
import Redis from 'ioredis';
import { Pool } from 'pg';
import type { Logger } from 'pino';

export function createPgPool(options: { connectionString: string; max: number; logger: Logger }): Pool {
  const pool = new Pool({ connectionString: options.connectionString, max: options.max, connectionTimeoutMillis: 5000 });
  pool.on('error', (err) => options.logger.warn({ err: err.message }, 'idle PostgreSQL connection lost; it will be replaced'));
  return pool;
}

export function createRedisClient(options: { url: string; logger: Logger }): Redis {
  const redis = new Redis(options.url, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => options.logger.warn({ err: err.message }, 'Redis connection error; reconnecting'));
  return redis;
}
