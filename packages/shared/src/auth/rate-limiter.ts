import type Redis from 'ioredis';

export interface RateLimiter {
  /** Counts one request of this key; returns the seconds to wait when over the limit, else 0. */
  hit(keyId: string): Promise<number>;
}

/**
 * A fixed one-second window per key in Redis, so the limit holds across every gateway and query
 * instance. perSecond 0 turns limiting off.
 */
export function createRateLimiter(redis: Redis, options: { prefix: string; perSecond: number }): RateLimiter {
  return {
    async hit(keyId) {
      if (options.perSecond <= 0) return 0;
      const second = Math.floor(Date.now() / 1000);
      const key = `${options.prefix}rate:${keyId}:${second}`;
      const results = await redis.multi().incr(key).expire(key, 2).exec();
      const count = Number(results?.[0]?.[1] ?? 0);
      return count > options.perSecond ? 1 : 0;
    },
  };
}
