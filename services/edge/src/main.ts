import { createLogger, parseEnv } from '@opd/shared';
import { buildApp } from './app';

async function main(): Promise<void> {
  const env = parseEnv(process.env);
  const logger = createLogger({ name: 'edge', level: env.LOG_LEVEL });
  const app = await buildApp(
    { bookingUrl: env.BOOKING_URL, queryUrl: env.QUERY_URL, allocatorUrl: env.ALLOCATOR_URL },
    { logger },
  );
  await app.listen({ host: env.HOST, port: env.EDGE_PORT });

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
