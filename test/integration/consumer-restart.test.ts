/**
 * A consumer that kafkajs gives up on (a non-retriable crash, as "Failed to find group coordinator"
 * during a broker restart) is started again by restartAfterFatalCrash, against the real broker.
 */
import { KafkaJSNonRetriableError, type Consumer } from 'kafkajs';
import pino from 'pino';
import { createKafka, createProducer, ensureTopics, restartAfterFatalCrash, topicNames } from '@opd/shared';
import { eventually } from '../support/http';
import { testServers } from '../support/servers';
import { uniquePrefix } from '../support/system';

const servers = testServers();
const logger = pino({ level: 'silent' });

describe('restartAfterFatalCrash', () => {
  it('starts a new consumer after a crash kafkajs does not restart from, which then consumes', async () => {
    const prefix = uniquePrefix('restart');
    const kafka = createKafka({ brokers: servers.kafkaBrokers, clientId: 'restart', topicPrefix: prefix, partitions: 1 }, logger);
    const topic = topicNames(prefix).commands;
    await ensureTopics(kafka, topicNames(prefix), 1);

    const crashes: boolean[] = [];
    const received: string[] = [];
    const consumers: Consumer[] = [];
    let stopping = false;
    let failFirst = true;

    async function startConsumer(): Promise<void> {
      const consumer = kafka.consumer({ groupId: `${prefix}group`, maxWaitTimeInMs: 100 });
      consumers.push(consumer);
      consumer.on(consumer.events.CRASH, ({ payload }) => crashes.push(payload.restart));
      restartAfterFatalCrash(consumer, { name: 'test', logger, restart: startConsumer, isStopping: () => stopping, firstDelayMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (failFirst) {
            failFirst = false;
            throw new KafkaJSNonRetriableError('simulated fatal error');
          }
          received.push(message.value!.toString());
        },
      });
    }

    const producer = createProducer(kafka);
    try {
      await startConsumer();
      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'k', value: 'first' }] });

      // The first consumer crashed without a kafkajs restart; the second got the same message again
      // (its offset was never committed).
      const got = await eventually(async () => received, (list) => list.includes('first'), 20_000);
      expect(got).toEqual(['first']);
      expect(crashes).toEqual([false]);
      expect(consumers).toHaveLength(2);
    } finally {
      stopping = true;
      await producer.disconnect();
      await Promise.all(consumers.map((consumer) => consumer.disconnect()));
    }
  });
});
