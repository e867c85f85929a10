/**
 * Projects the allocator's slot events into the Redis read model. An event carries only what a
 * batch changed (`slot.changed`, against a base version); the projector keeps the slots of its
 * partitions in memory to apply them, and rebuilds a slot from PostgreSQL when it does not hold
 * the base version (after a start, a rebalance or a gap). Offsets are committed after Redis has
 * the batch, so a crash replays events, and the version checks make replays harmless.
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { SlotEventSchema, dropOldest, loadSlotStates, restartAfterFatalCrash, setRecent, type SlotEvent, type SlotState } from '@opd/shared';
import type { ViewStore } from './view-store';

/**
 * Slots held in memory, the most recently changed (a busy day has a few thousand); a dropped slot
 * is reloaded from PostgreSQL when it changes again. The bound keeps the service's memory flat.
 */
const CACHED_SLOTS = 5_000;

/** The slot after the event, or null when the event is older than what is held (a replay). */
export function applySlotEvent(held: SlotState | undefined, event: SlotEvent): SlotState | 'stale' | 'rebuild' {
  if (held && held.slot.version >= event.slot.version) return 'stale';
  if (event.type === 'slot.snapshot') return { slot: event.slot, tokens: event.tokens };
  if (event.baseVersion === 0) return { slot: event.slot, tokens: event.tokens };
  if (!held || held.slot.version !== event.baseVersion) return 'rebuild';
  const tokens = new Map(held.tokens.map((t) => [t.id, t]));
  for (const token of event.tokens) tokens.set(token.id, token);
  return { slot: event.slot, tokens: [...tokens.values()].sort((a, b) => a.number - b.number) };
}

export interface Projector {
  start(): Promise<void>;
  stop(): Promise<void>;
  isRunning(): boolean;
}

export function createProjector(options: {
  kafka: Kafka;
  topic: string;
  groupId: string;
  store: ViewStore;
  pool: Pool;
  logger: Logger;
}): Projector {
  const { kafka, topic, store, pool, logger } = options;
  const slots = new Map<string, SlotState>();
  const hold = (state: SlotState) => {
    setRecent(slots, state.slot.id, state);
    dropOldest(slots, CACHED_SLOTS);
  };
  let consumer: Consumer | null = null;
  let running = false;

  let stopping = false;

  async function startConsumer(): Promise<void> {
    // A fetch answers once 64 KiB of change events are there, or after 50 ms: fewer, larger fetches
    // and Redis pipelines. Each fetch is a broker request, and on 2 shared cores the broker's and our
    // CPU per request is what limits bookings; a screen does not notice a view 50 ms later.
    const fresh = kafka.consumer({ groupId: options.groupId, minBytes: 65536, maxWaitTimeInMs: 50, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    consumer = fresh;
    fresh.on(fresh.events.CRASH, ({ payload }) => {
      logger.error({ err: payload.error, restart: payload.restart }, 'projector crashed');
      running = payload.restart;
    });
    restartAfterFatalCrash(fresh, { name: 'projector', logger, restart: startConsumer, isStopping: () => stopping });
    fresh.on(fresh.events.GROUP_JOIN, () => {
      running = true;
    });
    try {
      await fresh.connect();
      await fresh.subscribe({ topic, fromBeginning: true });
    } catch (err) {
      await fresh.disconnect().catch(() => undefined);
      throw err;
    }
    // Not awaited: the group join can outlast a start-up timeout; readiness turns true on GROUP_JOIN.
    void fresh
      .run({
        partitionsConsumedConcurrently: 12,
        eachBatch: async ({ batch, heartbeat }) => {
          // Events apply in order; Redis gets each touched slot once, in its newest state.
          const touched = new Map<string, SlotState>();
          for (const message of batch.messages) {
            if (!message.value) continue;
            const parsed = SlotEventSchema.safeParse(JSON.parse(message.value.toString()));
            if (!parsed.success) {
              logger.warn({ offset: message.offset }, 'malformed slot event ignored');
              continue;
            }
            const event = parsed.data;
            let next = applySlotEvent(slots.get(event.slot.id), event);
            if (next === 'rebuild') {
              // PostgreSQL holds at least this version: the event was published after its commit.
              next = (await loadSlotStates(pool, [event.slot.id])).get(event.slot.id) ?? 'stale';
            }
            if (next === 'stale') continue;
            hold(next);
            touched.set(next.slot.id, next);
          }
          await store.saveMany([...touched.values()]);
          await heartbeat();
        },
      })
      .catch((err) => {
        logger.error({ err }, 'projector failed to start');
        running = false;
      });
  }

  return {
    async start() {
      stopping = false;
      await startConsumer();
    },
    async stop() {
      stopping = true;
      running = false;
      await consumer?.disconnect();
      slots.clear();
    },
    isRunning: () => running,
  };
}
