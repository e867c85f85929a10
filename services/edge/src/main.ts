import { changedSlotIdsChannel, createRedisClient, runService } from '@opd/shared';
import { buildApp } from './app';

runService('edge', async (env, logger) => {
  // Only for the view cache: the edge listens to the read model's change channel.
  const redis = env.EDGE_VIEW_CACHE_MS > 0 ? createRedisClient({ url: env.REDIS_URL, logger }) : undefined;
  const app = await buildApp(
    {
      bookingUrl: env.BOOKING_URL,
      queryUrl: env.QUERY_URL,
      allocatorUrl: env.ALLOCATOR_URL,
      corsOrigins: env.CORS_ORIGINS,
      maxInFlight: { writes: env.EDGE_MAX_IN_FLIGHT_WRITES, reads: env.EDGE_MAX_IN_FLIGHT_READS },
      viewCache: { maxAgeMs: env.EDGE_VIEW_CACHE_MS, maxBytes: env.EDGE_VIEW_CACHE_MAX_BYTES, channel: changedSlotIdsChannel(env.REDIS_KEY_PREFIX) },
    },
    { logger, redis },
  );
  await app.listen({ host: env.HOST, port: env.EDGE_PORT });
  return async () => {
    await app.close();
    redis?.disconnect();
  };
});
