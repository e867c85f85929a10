import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors';

export type ReadinessCheck = () => Promise<unknown>;

async function withTimeout(check: ReadinessCheck, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz`: the process answers. `/readyz`: every dependency answers, each named in the result. */
export function registerHealthRoutes(app: FastifyInstance, checks: Record<string, ReadinessCheck>): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const results: Record<string, string> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check, 2000);
          results[name] = 'ok';
        } catch (err) {
          results[name] = (err as Error).message || 'failed';
        }
      }),
    );
    const ready = Object.values(results).every((r) => r === 'ok');
    if (ready) return { status: 'ready', checks: results };
    return reply
      .code(503)
      .header('Retry-After', '1')
      .send(errorBody('UNAVAILABLE', 'Not ready', { checks: results }));
  });
}
