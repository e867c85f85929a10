/**
 * How a decision gets back to the gateway instance that waits for it: every command carries
 * `replyTo` = this instance's id; the allocator publishes the reply to the replies topic with a
 * `reply-to` header; each gateway instance reads the replies topic in a consumer group of its own
 * (so every instance sees every reply), skips other instances' replies by header without parsing
 * them, and resolves the waiting request by command id.
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { REPLY_TO_HEADER, restartAfterFatalCrash, type Reply } from '@opd/shared';

export interface ReplyWaiter {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Registers interest before the command is published, so a fast reply is never missed. */
  expect(commandId: string, timeoutMs: number): Promise<Reply | null>;
  forget(commandId: string): void;
  isReady(): boolean;
}

export function createReplyWaiter(options: {
  kafka: Kafka;
  topic: string;
  instanceId: string;
  groupId: string;
  logger: Logger;
}): ReplyWaiter {
  const { kafka, topic, instanceId, logger } = options;
  const pending = new Map<string, { resolve: (reply: Reply | null) => void; timer: NodeJS.Timeout }>();
  let consumer: Consumer | null = null;
  let ready = false;

  function settle(commandId: string, reply: Reply | null): void {
    const waiting = pending.get(commandId);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    pending.delete(commandId);
    waiting.resolve(reply);
  }

  let stopping = false;

  /** A new consumer in this instance's group; waits for the join only at start-up. */
  async function startConsumer(waitForJoin: boolean): Promise<void> {
    // minBytes 1 (the default): the broker answers a fetch as soon as any reply is there, so a long
    // maxWait adds no latency; it only stops an idle gateway from polling the broker 50 times a second.
    const fresh = kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 500, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    consumer = fresh;
    const joined = new Promise<void>((resolve) => {
      fresh.on(fresh.events.GROUP_JOIN, () => {
        ready = true;
        resolve();
      });
    });
    fresh.on(fresh.events.CRASH, ({ payload }) => {
      logger.error({ err: payload.error, restart: payload.restart }, 'reply consumer crashed');
      ready = payload.restart;
    });
    restartAfterFatalCrash(fresh, { name: 'replies', logger, restart: () => startConsumer(false), isStopping: () => stopping });
    try {
      await fresh.connect();
      await fresh.subscribe({ topic, fromBeginning: false });
      await fresh.run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            const target = message.headers?.[REPLY_TO_HEADER];
            if (!target || target.toString() !== instanceId || !message.value) continue;
            const reply = parseReply(message.value.toString());
            if (reply) settle(reply.commandId, reply);
            else logger.warn({ offset: message.offset }, 'malformed reply ignored');
          }
        },
      });
    } catch (err) {
      await fresh.disconnect().catch(() => undefined);
      throw err;
    }
    if (waitForJoin) await joined;
  }

  return {
    async start() {
      stopping = false;
      await startConsumer(true);
    },
    async stop() {
      stopping = true;
      ready = false;
      for (const commandId of [...pending.keys()]) settle(commandId, null);
      await consumer?.disconnect();
    },
    expect(commandId, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => settle(commandId, null), timeoutMs);
        pending.set(commandId, { resolve, timer });
      });
    },
    forget(commandId) {
      const waiting = pending.get(commandId);
      if (waiting) clearTimeout(waiting.timer);
      pending.delete(commandId);
    },
    isReady: () => ready,
  };
}

/**
 * The checks of ReplySchema (schemaVersion 1, string commandId, integer status, any body), by
 * hand: every reply of this instance passes here, and zod's generic walk cost more than the rest
 * of the reply path. Not JSON, or not that shape: null.
 */
export function parseReply(text: string): Reply | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  if (r.schemaVersion !== 1 || typeof r.commandId !== 'string' || !Number.isInteger(r.status)) return null;
  return { schemaVersion: 1, commandId: r.commandId, status: r.status as number, body: r.body };
}
