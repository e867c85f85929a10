import { runService } from '@opd/shared';
import { buildApp } from './app';

runService('edge', async (env, logger) => {
  const app = await buildApp(
    {
      bookingUrl: env.BOOKING_URL,
      queryUrl: env.QUERY_URL,
      allocatorUrl: env.ALLOCATOR_URL,
      corsOrigins: env.CORS_ORIGINS,
      maxInFlight: { writes: env.EDGE_MAX_IN_FLIGHT_WRITES, reads: env.EDGE_MAX_IN_FLIGHT_READS },
    },
    { logger },
  );
  await app.listen({ host: env.HOST, port: env.EDGE_PORT });
  return () => app.close();
});
