import type { Logger } from 'pino';
import { parseEnv, type Env } from './config';
import { createLogger } from './logger';

/**
 * The body of every main.ts: parse the environment once, start, and close gracefully on
 * SIGTERM/SIGINT. A start-up failure (bad config, unreachable database) exits with status 1.
 */
export function runService(name: string, start: (env: Env, logger: Logger) => Promise<() => Promise<void>>): void {
  let logger: Logger | undefined;
  const boot = async () => {
    const env = parseEnv(process.env);
    logger = createLogger({ name, level: env.LOG_LEVEL });
    const close = await start(env, logger);
    const shutdown = async (signal: string) => {
      logger!.info({ signal }, 'shutting down');
      try {
        await close();
      } finally {
        process.exit(0);
      }
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  };
  boot().catch((err) => {
    if (logger) logger.fatal({ err }, 'start-up failed');
    else console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
