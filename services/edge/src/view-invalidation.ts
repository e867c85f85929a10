/**
 * Keeps the edge's view cache honest: every slot id the read model publishes (one message per
 * new view, see changedSlotIdsChannel) drops that slot's cached answers. While the subscription is down (Redis restarting) the cache is off, and
 * it starts empty once the edge hears the channel again.
 */
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { ViewCache } from './view-cache';

export interface ViewInvalidation {
  stop(): Promise<void>;
}

export async function listenForViewChanges(redis: Redis, channel: string, cache: ViewCache, logger: Logger): Promise<ViewInvalidation> {
  // Named, so an operator (or a test) can find this connection in CLIENT LIST.
  const subscriber = redis.duplicate({ connectionName: `edge-view-cache:${channel}` });
  let stopping = false;
  subscriber.on('message', (_channel: string, slotId: string) => cache.invalidate(slotId));
  subscriber.on('error', (err: Error) => logger.warn({ err: err.message }, 'view cache subscriber error'));
  subscriber.on('close', () => cache.setListening(false));
  subscriber.on('ready', () => {
    // ioredis re-subscribes by itself after a reconnect; the cache is trusted again only once the
    // subscription is confirmed, since changes published before that were not heard.
    if (stopping) return;
    subscriber.subscribe(channel).then(
      () => !stopping && cache.setListening(true),
      (err: Error) => logger.warn({ err: err.message }, 'view cache resubscribe failed'),
    );
  });
  await subscriber.subscribe(channel);
  cache.setListening(true);
  return {
    async stop() {
      stopping = true;
      cache.setListening(false);
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
