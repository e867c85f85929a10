/**
 * How a decision gets back to the gateway instance that waits for it: every command carries
 * `replyTo` = this instance's id; the allocator publishes the reply to the replies topic with a
 * `reply-to` header; each gateway instance reads the replies topic in a consumer group of its own
 * (so every instance sees every reply), skips other instances' replies by header without parsing
 * them, and resolves the waiting request by command id.
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { REPLY_TO_HEADER, ReplySchema, type Reply } from '@opd/shared';

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

  return {
    async start() {
      consumer = kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 20, sessionTimeout: 10_000, heartbeatInterval: 1000 });
      const joined = new Promise<void>((resolve) => {
        consumer!.on(consumer!.events.GROUP_JOIN, () => {
          ready = true;
          resolve();
        });
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        logger.error({ err: payload.error, restart: payload.restart }, 'reply consumer crashed');
        ready = payload.restart;
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: false });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            const target = message.headers?.[REPLY_TO_HEADER];
            if (!target || target.toString() !== instanceId || !message.value) continue;
            const parsed = ReplySchema.safeParse(JSON.parse(message.value.toString()));
            if (parsed.success) settle(parsed.data.commandId, parsed.data);
            else logger.warn({ offset: message.offset }, 'malformed reply ignored');
          }
        },
      });
      await joined;
    },
    async stop() {
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
