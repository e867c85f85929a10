/**
 * Projects the allocator's slot snapshots into the Redis read model. Offsets are committed after
 * Redis has the batch, so a crash replays snapshots, and the version check makes replays harmless.
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { SlotSnapshotEventSchema, type SlotState } from '@opd/shared';
import type { ViewStore } from './view-store';

export interface Projector {
  start(): Promise<void>;
  stop(): Promise<void>;
  isRunning(): boolean;
}

export function createProjector(options: { kafka: Kafka; topic: string; groupId: string; store: ViewStore; logger: Logger }): Projector {
  const { kafka, topic, store, logger } = options;
  let consumer: Consumer | null = null;
  let running = false;

  return {
    async start() {
      // A fetch answers once 64 KiB of snapshots are there, or after 10 ms: under load fewer, larger
      // fetches and Redis pipelines (and more superseded snapshots skipped); a view lags 10 ms more at most.
      consumer = kafka.consumer({ groupId: options.groupId, minBytes: 65536, maxWaitTimeInMs: 10, sessionTimeout: 10_000, heartbeatInterval: 1000 });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        logger.error({ err: payload.error, restart: payload.restart }, 'projector crashed');
        running = payload.restart;
      });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        running = true;
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      // Not awaited: the group join can outlast a start-up timeout; readiness turns true on GROUP_JOIN.
      void consumer.run({
        partitionsConsumedConcurrently: 12,
        eachBatch: async ({ batch, heartbeat }) => {
          // Only the newest snapshot of each slot in the batch matters.
          const latest = new Map<string, SlotState>();
          for (const message of batch.messages) {
            if (!message.value) continue;
            const parsed = SlotSnapshotEventSchema.safeParse(JSON.parse(message.value.toString()));
            if (!parsed.success) {
              logger.warn({ offset: message.offset }, 'malformed snapshot ignored');
              continue;
            }
            const { slot, tokens } = parsed.data;
            const seen = latest.get(slot.id);
            if (!seen || seen.slot.version < slot.version) latest.set(slot.id, { slot, tokens });
          }
          await store.saveMany([...latest.values()]);
          await heartbeat();
        },
      }).catch((err) => {
        logger.error({ err }, 'projector failed to start');
        running = false;
      });
    },
    async stop() {
      running = false;
      await consumer?.disconnect();
    },
    isRunning: () => running,
  };
}
