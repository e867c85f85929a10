/** Each adapter against its real server: Kafka (booking side -> allocator side), PostgreSQL migrations, Redis read model. */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Client, Pool } from 'pg';
import pino from 'pino';
import { createKafka, createProducer, createSlotState, ensureTopics, migrate, topicNames, type Command } from '@opd/shared';
import { createAllocator } from '../../services/allocator/src/allocator';
import { createViewStore } from '../../services/query/src/view-store';
import { eventually } from '../support/http';
import { testServers } from '../support/servers';
import { uniquePrefix } from '../support/system';

const servers = testServers();
const logger = pino({ level: 'silent' });

describe('smoke: real servers', () => {
  it('a command produced on the booking side is consumed and persisted by the allocator', async () => {
    const prefix = uniquePrefix('smoke');
    const kafkaConfig = { brokers: servers.kafkaBrokers, clientId: 'smoke', topicPrefix: prefix, partitions: 2 };
    const kafka = createKafka(kafkaConfig, logger);
    const pool = new Pool({ connectionString: servers.databaseUrl, max: 4 });
    const doctorId = `doc-${randomUUID()}`;
    await pool.query('INSERT INTO doctors (id, branch_id, name) VALUES ($1, $2, $3)', [doctorId, 'b1', 'Dr. Smoke']);
    const allocator = createAllocator({
      config: { kafka: kafkaConfig, groupId: `${prefix}alloc`, instanceId: 'smoke-alloc', partitionsConcurrency: 1 },
      pool,
      kafka,
      logger,
    });
    const producer = createProducer(kafka);
    try {
      await allocator.start();
      await producer.connect();
      const slotId = randomUUID();
      const command: Command = {
        schemaVersion: 1,
        commandId: randomUUID(),
        slotId,
        issuedAt: new Date().toISOString(),
        type: 'slot.create',
        doctorId,
        branchId: 'b1',
        start: new Date().toISOString(),
        end: new Date(Date.now() + 3600_000).toISOString(),
        capacity: 3,
      };
      await producer.send({ topic: topicNames(prefix).commands, messages: [{ key: slotId, value: JSON.stringify(command) }] });
      const row = await eventually(
        async () => (await pool.query('SELECT capacity, kafka_partition FROM slots WHERE id = $1', [slotId])).rows[0],
        (r) => r !== undefined,
      );
      expect(row.capacity).toBe(3);
      const offsets = await pool.query('SELECT next_offset FROM partition_offsets WHERE topic = $1 AND partition = $2', [
        topicNames(prefix).commands,
        row.kafka_partition,
      ]);
      expect(Number(offsets.rows[0].next_offset)).toBe(1);
    } finally {
      await producer.disconnect();
      await allocator.stop();
      await pool.end();
    }
  });

  it('creates topics with a fixed partition count, idempotently', async () => {
    const prefix = uniquePrefix('topics');
    const kafka = createKafka({ brokers: servers.kafkaBrokers, clientId: 'topics', topicPrefix: prefix, partitions: 3 }, logger);
    // Three services start at once and race to create the same topics; each must return with every
    // partition led, so its first produce or subscribe cannot meet a topic the broker does not know yet.
    await Promise.all([1, 2, 3].map(() => ensureTopics(kafka, topicNames(prefix), 3)));
    await ensureTopics(kafka, topicNames(prefix), 3);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: Object.values(topicNames(prefix)) });
      expect(metadata.topics).toHaveLength(3);
      for (const topic of metadata.topics) {
        expect(topic.partitions).toHaveLength(3);
        expect(topic.partitions.every((partition) => partition.leader >= 0)).toBe(true);
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('migrations create a missing database and apply once on real PostgreSQL', async () => {
    const name = `opd_smoke_${randomUUID().slice(0, 8)}`;
    const url = new URL(servers.databaseUrl);
    url.pathname = `/${name}`;
    try {
      const first = await migrate({ databaseUrl: url.toString() });
      expect(first).toEqual(expect.arrayContaining(['001_init.sql']));
      expect(await migrate({ databaseUrl: url.toString() })).toEqual([]);
      const client = new Client({ connectionString: url.toString() });
      await client.connect();
      const { rows } = await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
      await client.end();
      expect(rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['doctors', 'slots', 'tokens', 'partition_offsets', 'outbox', 'idempotency_keys']),
      );
    } finally {
      url.pathname = '/postgres';
      const admin = new Client({ connectionString: url.toString() });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    }
  });

  it('the query side writes and reads the real Redis, and never lets an older version win', async () => {
    const redis = new Redis(servers.redisUrl);
    const prefix = uniquePrefix('redis');
    const store = createViewStore(redis, prefix);
    try {
      const state = createSlotState({ id: 'slot-1', doctorId: 'd', branchId: 'b', start: '2030-01-01T09:00:00.000Z', end: '2030-01-01T10:00:00.000Z', capacity: 4 });
      const newer = { ...state, slot: { ...state.slot, version: 5, capacity: 9 } };
      expect(await store.save(newer)).toBe(true);
      expect(await store.save(state)).toBe(false);
      const view = JSON.parse((await store.getViewBody('slot-1'))!);
      expect(view).toMatchObject({ version: 5, slot: { capacity: 9 }, queue: [] });
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
