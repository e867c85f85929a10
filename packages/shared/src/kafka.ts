import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type Message, type Producer, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConfig } from './config';

export interface TopicNames {
  commands: string;
  replies: string;
  events: string;
}

export function topicNames(prefix: string): TopicNames {
  return { commands: `${prefix}opd.commands`, replies: `${prefix}opd.replies`, events: `${prefix}opd.events` };
}

const PINO_LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(config: KafkaConfig, logger: Logger): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        kafkaLogger[PINO_LEVEL[level] ?? 'info'](extra, message);
      },
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
  });
}

/** Producers hash keys like the Java client, so every tool agrees which partition owns a slot. */
export function createProducer(kafka: Kafka, options: { idempotent?: boolean } = {}): Producer {
  return kafka.producer({
    createPartitioner: Partitioners.JavaCompatiblePartitioner,
    allowAutoTopicCreation: false,
    idempotent: options.idempotent ?? false,
    // Fail fast: the gateway turns a failed send into 503 rather than holding the client.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

/** Creates the topics with a fixed partition count if they do not exist yet, and waits until each has a leader. */
export async function ensureTopics(
  kafka: Kafka,
  names: TopicNames,
  partitions: number,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const topics = Object.values(names);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      // Our own wait below: kafkajs' waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a
      // KRaft broker answers until it has replayed the controller's record of the new topic.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      });
    }
    await waitForLeaders(admin, topics, options.timeoutMs ?? 30_000);
  } finally {
    await admin.disconnect();
  }
}

const TOPIC_NOT_READY = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

async function waitForLeaders(admin: Admin, topics: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let notReady: string;
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      const leaderless = metadata.filter((topic) => topic.partitions.some((partition) => partition.leader < 0));
      if (leaderless.length === 0) return;
      notReady = `no leader yet for ${leaderless.map((topic) => topic.name).join(', ')}`;
    } catch (error) {
      const type = kafkaErrorType(error);
      if (!type || !TOPIC_NOT_READY.has(type)) throw error;
      notReady = type;
    }
    if (Date.now() > deadline) {
      throw new Error(`Kafka topics ${topics.join(', ')} not ready after ${timeoutMs} ms: ${notReady}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** kafkajs puts the protocol error's type on the error itself or, once its retrier gives up, on the cause. */
function kafkaErrorType(error: unknown): string | undefined {
  const { type, cause, originalError } = error as { type?: string; cause?: unknown; originalError?: unknown };
  if (type) return type;
  const inner = cause ?? originalError;
  return inner ? kafkaErrorType(inner) : undefined;
}

/**
 * kafkajs restarts a crashed consumer by itself only after a retriable error. After a non-retriable
 * one (seen in `npm run chaos`: "Failed to find group coordinator" while the broker restarts) the
 * consumer stays stopped, and the service stays unready until its process is restarted. This calls
 * `restart` (which starts a new consumer) after a pause instead, doubling the pause after each
 * failed attempt (1 s up to 30 s), until it succeeds or the service is stopping.
 */
export function restartAfterFatalCrash(
  consumer: Consumer,
  options: { name: string; logger: Logger; restart: () => Promise<void>; isStopping: () => boolean; firstDelayMs?: number },
): void {
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart || options.isStopping()) return;
    let delayMs = options.firstDelayMs ?? 1000;
    const attempt = () => {
      setTimeout(async () => {
        if (options.isStopping()) return;
        try {
          await options.restart();
          options.logger.warn({ consumer: options.name }, 'consumer started again after a crash kafkajs does not recover from');
        } catch (err) {
          options.logger.warn({ consumer: options.name, err: (err as Error).message, retryInMs: delayMs * 2 }, 'consumer restart failed');
          delayMs = Math.min(delayMs * 2, 30_000);
          attempt();
        }
      }, delayMs);
    };
    attempt();
  });
}

export interface BatchingSender {
  send(topic: string, message: Message): Promise<void>;
  flush(): Promise<void>;
}

/**
 * kafkajs has no linger: every send() is a request. Collecting sends for a millisecond or two
 * into one sendBatch keeps the gateway at thousands of commands per second. `lingerMs: 0` sends
 * what was queued in the same event-loop turn (setImmediate), adding no timer delay.
 */
export function createBatchingSender(producer: Producer, options: { lingerMs: number; maxBatch: number }): BatchingSender {
  type Pending = { topic: string; message: Message; resolve: () => void; reject: (err: unknown) => void };
  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  const inFlight = new Set<Promise<void>>();

  function flushNow(): Promise<void> {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = null;
    immediate = null;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return Promise.resolve();
    const byTopic = new Map<string, Message[]>();
    for (const item of batch) {
      const list = byTopic.get(item.topic) ?? [];
      list.push(item.message);
      byTopic.set(item.topic, list);
    }
    const sending = producer
      .sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
      .then(
        () => batch.forEach((item) => item.resolve()),
        (err) => batch.forEach((item) => item.reject(err)),
      )
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    return sending;
  }

  return {
    send(topic, message) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ topic, message, resolve, reject });
        if (queue.length >= options.maxBatch) void flushNow();
        else if (options.lingerMs <= 0) {
          // No linger: everything sent in this turn of the event loop (e.g. by several partitions'
          // handlers woken by one fetch) goes out as one request.
          if (!immediate) immediate = setImmediate(() => void flushNow());
        } else if (!timer) timer = setTimeout(() => void flushNow(), options.lingerMs);
      });
    },
    async flush() {
      await flushNow();
      await Promise.allSettled([...inFlight]);
    },
  };
}
