/** Publishes commands keyed by slot and waits for the allocator's decision. */
import type { Producer } from 'kafkajs';
import { AppError, createBatchingSender, type Command, type Reply } from '@opd/shared';
import type { ReplyWaiter } from './reply-waiter';

export interface CommandBus {
  /** The allocator's reply, or null when none came within the timeout (the command stays queued). */
  dispatch(command: Command): Promise<Reply | null>;
  flush(): Promise<void>;
}

export function createCommandBus(options: {
  producer: Producer;
  topic: string;
  waiter: ReplyWaiter;
  replyTimeoutMs: number;
  /** False while Kafka is unreachable: the gateway answers 503 at once instead of hanging. */
  isConnected: () => boolean;
}): CommandBus {
  const sender = createBatchingSender(options.producer, { lingerMs: 2, maxBatch: 500 });
  return {
    async dispatch(command) {
      if (!options.isConnected()) throw unavailable();
      const reply = options.waiter.expect(command.commandId, options.replyTimeoutMs);
      try {
        await sender.send(options.topic, { key: command.slotId, value: JSON.stringify(command) });
      } catch (err) {
        options.waiter.forget(command.commandId);
        // Nothing was accepted: the client may retry (with the same Idempotency-Key) safely.
        throw unavailable();
      }
      return reply;
    },
    flush: () => sender.flush(),
  };
}

function unavailable(): AppError {
  return new AppError('UNAVAILABLE', 'The booking queue is unavailable; please retry', undefined, 2);
}
