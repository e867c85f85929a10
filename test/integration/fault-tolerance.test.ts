/**
 * Nothing lost, nothing doubled: redelivery after a lost Kafka commit, a fenced zombie owner,
 * outbox leftovers republished by the next owner, a rebalance under load, Kafka unreachable.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Pool } from 'pg';
import pino from 'pino';
import { createKafka, loadSlotStates, topicNames, type SlotSnapshotEvent } from '@opd/shared';
import { buildApp as buildBooking } from '../../services/booking/src/app';
import { call, createDoctorWithSlot, createSlot, eventually } from '../support/http';
import { testServers } from '../support/servers';
import { startSystem, type TestSystem } from '../support/system';

const api = (system: TestSystem, method: string, path: string, body?: unknown) => call(system.edgeUrl, method, path, body);
const book = (system: TestSystem, slotId: string, name: string) =>
  api(system, 'POST', '/api/tokens/book', { slotId, source: 'ONLINE', patient: { name, phone: `+1 ${Math.floor(Math.random() * 1e9)}` } });

async function tokenNumbers(pool: Pool, slotId: string): Promise<number[]> {
  const { rows } = await pool.query('SELECT number FROM tokens WHERE slot_id = $1 ORDER BY number', [slotId]);
  return rows.map((r) => r.number);
}

describe('exactly-once effects', () => {
  let system: TestSystem;
  beforeEach(async () => {
    system = await startSystem({ label: 'eo', partitions: 2 });
  });
  afterEach(async () => {
    await system?.close();
  });

  it('commands redelivered from offset 0 (Kafka commits lost) change nothing twice', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 10 });
    for (let i = 0; i < 4; i += 1) expect((await book(system, slotId, `P${i}`)).status).toBe(201);
    const before = (await loadSlotStates(system.pool, [slotId])).get(slotId)!;

    // Stop the owner, rewind the group to the beginning, start a new owner: every command comes again.
    await system.allocators[0].close();
    const admin = createKafka({ ...system.kafkaConfig, clientId: 'rewind' }, pino({ level: 'silent' })).admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: `${system.prefix}opd-allocator`, topic: topicNames(system.prefix).commands, earliest: true });
    await admin.disconnect();
    await system.addAllocator();

    const fifth = await book(system, slotId, 'After restart');
    expect(fifth.status).toBe(201);
    expect(fifth.body.token.number).toBe(5);
    const after = (await loadSlotStates(system.pool, [slotId])).get(slotId)!;
    expect(after.tokens.slice(0, 4)).toEqual(before.tokens);
    expect(await tokenNumbers(system.pool, slotId)).toEqual([1, 2, 3, 4, 5]);
    expect(after.slot.version).toBe(before.slot.version + 1);
  });

  it('a zombie owner whose epoch was taken over cannot commit; the command is applied once by the new claim', async () => {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 10 });
    expect((await book(system, slotId, 'Before')).status).toBe(201);
    // Another owner claims every partition (as a rebalance would): the running allocator is now a zombie.
    await system.pool.query('UPDATE partition_offsets SET owner_epoch = owner_epoch + 1 WHERE topic = $1', [
      topicNames(system.prefix).commands,
    ]);
    const during = await book(system, slotId, 'During');
    expect(during.status).toBe(201);
    expect(system.allocators[0].allocator.stats().fenced).toBeGreaterThanOrEqual(1);
    expect(await tokenNumbers(system.pool, slotId)).toEqual([1, 2]);
  });

  /**
   * What a crash between COMMIT and publish leaves behind: the slot's owner is stopped after one
   * booking, then its capacity change is in PostgreSQL and its event only in the outbox.
   */
  async function leaveUnpublishedCapacityChange(capacity: number, outboxRowAge = '0 seconds'): Promise<string> {
    const { slotId } = await createDoctorWithSlot(system.edgeUrl, { capacity: 3 });
    expect((await book(system, slotId, 'Seen')).status).toBe(201);
    await eventually(() => api(system, 'GET', `/api/tokens/view/${slotId}`), (r) => r.body?.queue?.length === 1);
    await system.allocators[0].close();

    const state = (await loadSlotStates(system.pool, [slotId])).get(slotId)!;
    const changed = { ...state, slot: { ...state.slot, capacity, version: state.slot.version + 1 } };
    await system.pool.query('UPDATE slots SET capacity = $3, version = $2 WHERE id = $1', [slotId, changed.slot.version, capacity]);
    const { rows } = await system.pool.query('SELECT kafka_partition FROM slots WHERE id = $1', [slotId]);
    const event: SlotSnapshotEvent = { schemaVersion: 1, type: 'slot.snapshot', slot: changed.slot, tokens: changed.tokens };
    await system.pool.query(
      'INSERT INTO outbox (source_topic, kafka_partition, messages, created_at) VALUES ($1, $2, $3, now() - $4::interval)',
      [
        topicNames(system.prefix).commands,
        rows[0].kafka_partition,
        JSON.stringify([{ topic: topicNames(system.prefix).events, key: slotId, value: JSON.stringify(event) }]),
        outboxRowAge,
      ],
    );
    return slotId;
  }

  /** Published rows are deleted in bulk shortly after. */
  const outboxRowsLeft = () =>
    eventually(
      async () => (await system.pool.query('SELECT count(*)::int AS n FROM outbox WHERE source_topic = $1', [topicNames(system.prefix).commands])).rows[0].n,
      (n) => n === 0,
    );

  it('events committed but never published reach the read side through the next owner', async () => {
    const slotId = await leaveUnpublishedCapacityChange(7);
    await system.addAllocator();
    // The new owner claims the partition when its first command arrives.
    expect((await book(system, slotId, 'Wakes the owner')).status).toBe(201);
    const view = await eventually(
      () => api(system, 'GET', `/api/tokens/view/${slotId}`),
      (r) => r.body?.slot?.capacity === 7 && r.body.queue.length === 2,
    );
    expect(view.body.slot.capacity).toBe(7);
    expect(await outboxRowsLeft()).toBe(0);
  });

  it('events left in the outbox by a killed owner are published even if no command for that partition ever comes', async () => {
    const slotId = await leaveUnpublishedCapacityChange(9, '1 minute');
    await system.addAllocator();
    const view = await eventually(() => api(system, 'GET', `/api/tokens/view/${slotId}`), (r) => r.body?.slot?.capacity === 9, 20_000);
    expect(view.body.queue).toHaveLength(1);
    expect(await outboxRowsLeft()).toBe(0);
  });
});

describe('forwarded commands published twice', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startSystem({ label: 'forward', partitions: 2 });
  });
  afterAll(async () => {
    await system?.close();
  });

  it('a republished next-slot booking that was refused is not booked later', async () => {
    const { id: doctorId, slotId: first } = await createDoctorWithSlot(system.edgeUrl, { capacity: 1 });
    const later = await createSlot(system.edgeUrl, doctorId, { capacity: 1, startOffsetMinutes: 60 });
    await book(system, first, 'First holder');
    const laterHolder = await book(system, later, 'Later holder');
    const patient = { name: 'Refused everywhere', phone: '+1 555 0177' };
    const refused = await api(system, 'POST', '/api/tokens/book', { slotId: first, source: 'ONLINE', onFull: 'next-slot', patient });
    expect(refused.status).toBe(409);
    const decided = await system.pool.query('SELECT command_id FROM forwarded_commands WHERE slot_id = $1', [later]);
    expect(decided.rows).toHaveLength(1);
    expect((await api(system, 'PATCH', `/api/tokens/${laterHolder.body.token.id}/cancel`)).status).toBe(200);

    // The outbox row of the forward, as a crash between publish and delete leaves it: the next owner republishes it.
    await system.allocators[0].close();
    const topics = topicNames(system.prefix);
    const { rows } = await system.pool.query('SELECT kafka_partition FROM slots WHERE id = $1', [first]);
    const tokenId = randomUUID();
    const [commandId, hop] = decided.rows[0].command_id.split('#');
    const forward = {
      schemaVersion: 1, commandId, hop: Number(hop), slotId: later, replyTo: 'gone', issuedAt: new Date().toISOString(),
      type: 'token.book', tokenId, source: 'ONLINE', patient, onFull: 'next-slot', nextSlotIds: [], forwarded: true,
    };
    await system.pool.query('INSERT INTO outbox (source_topic, kafka_partition, messages) VALUES ($1, $2, $3)', [
      topics.commands,
      rows[0].kafka_partition,
      JSON.stringify([{ topic: topics.commands, key: later, value: JSON.stringify(forward) }]),
    ]);
    await system.addAllocator();
    expect((await api(system, 'POST', '/api/tokens/book', { slotId: first, source: 'EMERGENCY', patient: { name: 'Wakes the owner' } })).status).toBe(201);
    const outboxLeft = await eventually(
      async () => (await system.pool.query('SELECT count(*)::int AS n FROM outbox WHERE source_topic = $1', [topics.commands])).rows[0].n,
      (n) => n === 0,
    );
    expect(outboxLeft).toBe(0);
    // A booking after the republished copy, on the same partition order, proves the copy was consumed.
    const probe = await book(system, later, 'Probe');
    expect(probe.status).toBe(201);
    const booked = await system.pool.query('SELECT count(*)::int AS n FROM tokens WHERE patient->>\'phone\' = $1', [patient.phone]);
    expect(booked.rows[0].n).toBe(0);
  });
});

describe('rebalancing under load', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startSystem({ label: 'rebalance', partitions: 4, replyTimeoutMs: 15_000 });
  });
  afterAll(async () => {
    await system?.close();
  });

  it('adding and removing allocators loses and doubles nothing', async () => {
    const slots = await Promise.all(Array.from({ length: 6 }, () => createDoctorWithSlot(system.edgeUrl, { capacity: 1000 })));
    const accepted = new Map<string, { slotId: string; number: number }>();
    const pendingIds: string[] = [];
    let failures = 0;
    let running = true;
    const driver = (async () => {
      let i = 0;
      while (running) {
        const batch = await Promise.all(slots.map(({ slotId }) => book(system, slotId, `Load ${i}`)));
        for (const answer of batch) {
          if (answer.status === 201) accepted.set(answer.body.token.id, { slotId: answer.body.token.slotId, number: answer.body.token.number });
          else if (answer.status === 202) pendingIds.push(answer.body.token.id);
          else failures += 1;
        }
        i += 1;
      }
    })();

    await new Promise((r) => setTimeout(r, 500));
    await system.addAllocator();
    await new Promise((r) => setTimeout(r, 1500));
    await system.allocators[0].close();
    await new Promise((r) => setTimeout(r, 1500));
    running = false;
    await driver;

    expect(failures).toBe(0);
    expect(accepted.size).toBeGreaterThan(20);
    const slotIds = slots.map((s) => s.slotId);
    const everyAccepted = [...accepted.keys(), ...pendingIds];
    const persisted = await eventually(
      async () => (await system.pool.query('SELECT id, slot_id, number FROM tokens WHERE slot_id = ANY($1)', [slotIds])).rows,
      (rows) => rows.length >= everyAccepted.length,
      15_000,
    );
    const byId = new Map(persisted.map((r) => [r.id, r]));
    for (const [id, token] of accepted) expect(byId.get(id)).toMatchObject({ slot_id: token.slotId, number: token.number });
    for (const id of pendingIds) expect(byId.has(id)).toBe(true);
    expect(persisted).toHaveLength(everyAccepted.length);
    for (const slotId of slotIds) {
      const numbers = persisted.filter((r) => r.slot_id === slotId).map((r) => r.number).sort((a, b) => a - b);
      expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    }
  });
});

describe('dependencies failing', () => {
  it('Kafka unreachable: booking answers 503 UNAVAILABLE with Retry-After, and readiness says so', async () => {
    const logger = pino({ level: 'silent' });
    const pool = new Pool({ connectionString: testServers().databaseUrl, max: 2 });
    const kafkaConfig = { brokers: ['127.0.0.1:1'], clientId: 'down', topicPrefix: `t-down-${randomUUID().slice(0, 6)}.`, partitions: 1 };
    const redis = new Redis(testServers().redisUrl);
    const app = await buildBooking(
      { kafka: kafkaConfig, instanceId: 'down', replyTimeoutMs: 1000, auth: { mode: 'off', cacheMs: 0, rateLimitPerSecond: 0 }, redisKeyPrefix: 't-down.' },
      { pool, redis, kafka: createKafka(kafkaConfig, logger), logger },
    );
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const answer = await call(base, 'POST', '/api/tokens/book', { slotId: 'any-slot', source: 'ONLINE', patient: { name: 'Nobody' } });
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('2');
      expect(answer.body.error.code).toBe('UNAVAILABLE');
      const ready = await call(base, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.error.details.checks.kafka).not.toBe('ok');
      expect((await call(base, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await app.close();
      await pool.end();
      redis.disconnect();
    }
  });
});
