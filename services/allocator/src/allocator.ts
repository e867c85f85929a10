/**
 * The single writer per slot. Each Kafka partition of the command topic has one owner in the
 * consumer group; the owner keeps its slots in memory, applies each batch with the pure rules,
 * and commits state + consumed offset + outbox in one PostgreSQL transaction. A partition's
 * owner epoch, bumped on every claim and checked in every commit, fences a zombie owner.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import {
  CommandSchema,
  REPLY_TO_HEADER,
  createBatchingSender,
  createProducer,
  dropOldest,
  ensureTopics,
  findPublicToken,
  restartAfterFatalCrash,
  loadSlotStates,
  setRecent,
  topicNames,
  type BatchingSender,
  type Command,
  type KafkaConfig,
  type Reply,
  type SlotChangedEvent,
  type SlotState,
} from '@opd/shared';
import { applyBatch } from './apply-batch';
import { createOutboxUpkeep, type OutboxUpkeep } from './outbox-upkeep';
import { commitBatch, commitBatches, findDecidedForwards, findDoctors, findLaterSlots, findTokenSlots, type BatchCommit } from './slot-repository';

export interface AllocatorConfig {
  kafka: KafkaConfig;
  groupId: string;
  instanceId: string;
  /** Partitions processed at the same time; each needs one PostgreSQL connection. */
  partitionsConcurrency: number;
  /** IANA time zone of the branch (env TIME_ZONE): the day of the per-doctor token label counter. Default UTC. */
  timeZone?: string;
  /**
   * Fetch tuning. The broker answers a fetch once it holds `fetchMinBytes` for us or after
   * `fetchMaxWaitMs`: a little waiting under load gives bigger batches, i.e. fewer PostgreSQL
   * commits and Kafka produce requests per command. Defaults 8 KiB / 20 ms (about two dozen
   * commands): against 4 KiB / 10 ms, ~10% less CPU on a 2-core box at 100-500 bookings/s and a
   * higher saturation point, for ~7-12 ms more median latency at low rates (docs/performance.md).
   */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
  /**
   * Slots kept in memory per partition, the most recently changed (default 1,000: a busy day has
   * a few hundred per partition). A dropped slot is reloaded from PostgreSQL by its next command;
   * the bound keeps a long-running allocator's memory flat however far ahead patients book.
   */
  cachedSlotsPerPartition?: number;
  /** How often the allocator vacuums the outbox where PostgreSQL's autovacuum is off (default 30 s; 0 = never). */
  outboxVacuumEveryMs?: number;
}

export interface AllocatorDeps {
  config: AllocatorConfig;
  pool: Pool;
  kafka: Kafka;
  logger: Logger;
  /** Injectable clock for tests. */
  now?: () => Date;
}

export interface Allocator {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True while the consumer is in its group and consuming. */
  isRunning(): boolean;
  /** Counters for logs and benchmarks. */
  stats(): { batches: number; commands: number; fenced: number; commitStatements: number };
}

interface OwnedPartition {
  epoch: number;
  /** First offset not yet applied; -1 when PostgreSQL has no position for the partition. */
  nextOffset: number;
  slots: Map<string, SlotState>;
}

interface OutboxMessage {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

/**
 * Group commit: the partitions' handlers woken by one fetch reach their commit in the same
 * event-loop turn; their batches are committed in one statement (one round trip, one WAL flush)
 * instead of one each. If that statement fails, each batch is committed on its own, so one
 * batch's error (e.g. a token id another slot holds) is that batch's alone.
 */
function createGroupCommitter(pool: Pool, onStatement: () => void) {
  type Waiting = { batch: BatchCommit; resolve: (r: string | null | 'fenced') => void; reject: (err: unknown) => void };
  let queue: Waiting[] = [];
  let scheduled = false;
  const one = (w: Waiting) => {
    onStatement();
    return commitBatch(pool, w.batch).then(w.resolve, w.reject);
  };
  async function flush(): Promise<void> {
    scheduled = false;
    const group = queue;
    queue = [];
    if (group.length === 1) return one(group[0]);
    try {
      onStatement();
      const results = await commitBatches(pool, group.map((w) => w.batch));
      group.forEach((w, i) => w.resolve(results[i]));
    } catch {
      await Promise.all(group.map(one));
    }
  }
  return (batch: BatchCommit) =>
    new Promise<string | null | 'fenced'>((resolve, reject) => {
      queue.push({ batch, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    });
}

/** An outbox row older than this on one of our partitions was left behind: publish it. */
const STALE_OUTBOX_MS = 5000;
const OUTBOX_SWEEP_EVERY_MS = 2000;


/** Identifies one forward of a command (its hop), for recognising a republished copy. */
function forwardId(command: Command): string {
  return `${command.commandId}#${command.hop ?? 0}`;
}

export function createAllocator({ config, pool, kafka, logger, now = () => new Date() }: AllocatorDeps): Allocator {
  const topics = topicNames(config.kafka.topicPrefix);
  const log = logger.child({ component: 'allocator', instance: config.instanceId });
  const owned = new Map<number, OwnedPartition>();
  const unpublished = new Map<number, OutboxMessage[]>();
  /** Published outbox rows, deleted in bulk by the relay timer rather than one statement per batch. */
  let publishedOutboxIds: string[] = [];
  const counters = { batches: 0, commands: 0, fenced: 0, commitStatements: 0 };
  const groupCommit = createGroupCommitter(pool, () => (counters.commitStatements += 1));
  let consumer: Consumer | null = null;
  let producer: Producer | null = null;
  /** Outbox publishes of the partitions handled in one event-loop turn go out as one produce request. */
  let sender: BatchingSender | null = null;
  let running = false;
  let relayTimer: NodeJS.Timeout | null = null;
  /** One relay at a time: with Kafka away a run can outlast the interval (the producer retries). */
  let relaying: Promise<void> | null = null;
  /** This instance's partitions of the command topic since the last rebalance, claimed or not. */
  let assigned: number[] = [];
  let lastSweep = 0;

  /** Takes ownership of a partition: bumps its epoch and publishes what a previous owner left unpublished. */
  async function claim(partition: number): Promise<OwnedPartition> {
    const { rows } = await pool.query<{ next_offset: string; owner_epoch: string }>(
      `INSERT INTO partition_offsets (topic, partition, next_offset, owner_epoch, owner) VALUES ($1, $2, -1, 1, $3)
       ON CONFLICT (topic, partition) DO UPDATE
         SET owner_epoch = partition_offsets.owner_epoch + 1, owner = EXCLUDED.owner, updated_at = now()
       RETURNING next_offset, owner_epoch`,
      [topics.commands, partition, config.instanceId],
    );
    const claimed: OwnedPartition = { epoch: Number(rows[0].owner_epoch), nextOffset: Number(rows[0].next_offset), slots: new Map() };
    owned.set(partition, claimed);
    await relayLeftovers(partition);
    log.info({ partition, epoch: claimed.epoch, nextOffset: claimed.nextOffset }, 'partition claimed');
    return claimed;
  }

  async function relayLeftovers(partition: number): Promise<void> {
    const { rows } = await pool.query<{ id: string; messages: OutboxMessage[] }>(
      'SELECT id, messages FROM outbox WHERE source_topic = $1 AND kafka_partition = $2 ORDER BY id',
      [topics.commands, partition],
    );
    await publishRows(rows);
    if (rows.length) log.info({ partition, rows: rows.length }, 'outbox leftovers published');
  }

  /** In id order, each row deleted once published: a crash in between only publishes it again. */
  async function publishRows(rows: { id: string; messages: OutboxMessage[] }[]): Promise<void> {
    for (const row of rows) {
      await publish(row.messages);
      await pool.query('DELETE FROM outbox WHERE id = $1', [row.id]);
    }
  }

  async function publish(messages: OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const m of messages) {
      const list = byTopic.get(m.topic) ?? [];
      list.push({ key: m.key, value: m.value, headers: m.headers });
      byTopic.set(m.topic, list);
    }
    await producer!.sendBatch({ topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })) });
  }

  function parseCommand(message: KafkaMessage, partition: number): Command | null {
    try {
      return CommandSchema.parse(JSON.parse(message.value?.toString() ?? ''));
    } catch (err) {
      // A malformed command cannot become valid by retrying; skip it so the partition keeps moving.
      log.error({ partition, offset: message.offset, err }, 'malformed command skipped');
      return null;
    }
  }

  /**
   * Drops what must not be applied twice: a forwarded command its slot already decided (the outbox
   * publishes at least once), and a booking whose token id another slot already holds (a retry with
   * the same Idempotency-Key after the first attempt went to the next slot); that one is answered
   * with the existing token.
   */
  async function dropRepeats(
    parsed: Command[],
    ownership: OwnedPartition,
    checkTokens: boolean,
  ): Promise<{ commands: Command[]; answeredElsewhere: { replyTo: string; reply: Reply }[] }> {
    const seen = new Set<string>();
    const forwarded = parsed.filter((c) => c.forwarded).map((c) => ({ commandId: forwardId(c), slotId: c.slotId }));
    const decided = await findDecidedForwards(pool, forwarded);
    const unknownTokens = parsed.filter(
      (c): c is Extract<Command, { type: 'token.book' }> =>
        c.type === 'token.book' && !ownership.slots.get(c.slotId)?.tokens.some((t) => t.id === c.tokenId),
    );
    const elsewhere = checkTokens ? await findTokenSlots(pool, unknownTokens.map((c) => c.tokenId)) : new Map<string, string>();
    const answeredElsewhere: { replyTo: string; reply: Reply }[] = [];
    const commands: Command[] = [];
    for (const command of parsed) {
      const key = `${forwardId(command)} ${command.slotId}`;
      if (command.forwarded && (decided.has(key) || seen.has(key))) continue;
      seen.add(key);
      const otherSlot = command.type === 'token.book' ? elsewhere.get(command.tokenId) : undefined;
      if (command.type === 'token.book' && otherSlot && otherSlot !== command.slotId) {
        const state = (await loadSlotStates(pool, [otherSlot])).get(otherSlot);
        const token = state ? findPublicToken(state, command.tokenId) : null;
        if (command.replyTo) {
          answeredElsewhere.push({ replyTo: command.replyTo, reply: { schemaVersion: 1, commandId: command.commandId, status: 200, body: { token } } });
        }
        continue;
      }
      commands.push(command);
    }
    return { commands, answeredElsewhere };
  }

  async function handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const partition = batch.partition;
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const ownership = owned.get(partition) ?? (await claim(partition));

    const firstOffset = Number(batch.messages[0].offset);
    if (ownership.nextOffset >= 0 && firstOffset > ownership.nextOffset) {
      // Kafka is ahead of what PostgreSQL has applied: go back to PostgreSQL's position.
      consumer!.seek({ topic: batch.topic, partition, offset: String(ownership.nextOffset) });
      return;
    }
    // Redelivered messages that PostgreSQL already holds are skipped: exactly-once effects.
    const fresh = batch.messages.filter((m) => Number(m.offset) >= ownership.nextOffset);
    const lastOffset = batch.messages[batch.messages.length - 1].offset;
    if (fresh.length === 0) {
      resolveOffset(lastOffset);
      return;
    }
    const parsed = fresh.map((m) => parseCommand(m, partition)).filter((c): c is Command => c !== null);
    const nextOffset = Number(lastOffset) + 1;

    /**
     * Applies and commits the batch. A token id belongs to one slot: a booking whose id another
     * slot already holds (an Idempotency-Key retry after the first attempt went to the next slot)
     * is answered with that token. Looking every new id up costs a query per batch, and almost
     * every id is new, so the first attempt skips the lookup: a booking it books here is checked
     * by the commit itself (opd_commit_batch refuses an id another slot holds), and any booking
     * it did not book here (refused, forwarded) could be such a retry. In both cases the batch is
     * applied again with the lookup, exactly as before.
     */
    const attempt = async (checkTokens: boolean) => {
      const { commands, answeredElsewhere } = await dropRepeats(parsed, ownership, checkTokens);

      const missing = [...new Set(commands.map((c) => c.slotId))].filter((id) => !ownership.slots.has(id));
      if (missing.length) for (const [id, state] of await loadSlotStates(pool, missing)) ownership.slots.set(id, state);

      const at = now().toISOString();
      const result = await applyBatch(
        ownership.slots,
        commands,
        at,
        {
          doctors: (ids) => findDoctors(pool, ids, config.timeZone),
          laterSlots: (doctorId, after) => findLaterSlots(pool, doctorId, after, at),
        },
        { timeZone: config.timeZone },
      );
      if (!checkTokens && commands.some((c) => c.type === 'token.book' && result.changedTokens.get(c.tokenId)?.slotId !== c.slotId)) {
        return null;
      }

      const outbox: OutboxMessage[] = [];
      for (const state of result.changedSlots.values()) {
        // Only what changed travels: a slot's full token list per booking was most of the bytes.
        const event: SlotChangedEvent = {
          schemaVersion: 1,
          type: 'slot.changed',
          baseVersion: ownership.slots.get(state.slot.id)?.slot.version ?? 0,
          slot: state.slot,
          tokens: state.tokens.filter((t) => result.changedTokens.has(t.id)),
        };
        outbox.push({ topic: topics.events, key: state.slot.id, value: JSON.stringify(event) });
      }
      for (const forward of result.forwards) {
        outbox.push({ topic: topics.commands, key: forward.slotId, value: JSON.stringify({ ...forward, forwarded: true, hop: (forward.hop ?? 0) + 1 }) });
      }
      for (const { replyTo, reply } of [...answeredElsewhere, ...result.replies]) {
        outbox.push({ topic: topics.replies, key: replyTo, value: JSON.stringify(reply), headers: { [REPLY_TO_HEADER]: replyTo } });
      }

      let committed;
      try {
        committed = await groupCommit({
          topic: topics.commands,
          partition,
          epoch: ownership.epoch,
          nextOffset,
          slots: [...result.changedSlots.values()].map((state) => ({ state, partition })),
          tokens: [...result.changedTokens.values()],
          outbox,
          forwarded: commands.filter((c) => c.forwarded).map((c) => ({ commandId: forwardId(c), slotId: c.slotId })),
        });
      } catch (err) {
        if (!checkTokens && (err as { code?: string }).code === '23505') return null;
        throw err;
      }
      return { commands, result, outbox, committed };
    };
    const done = (await attempt(false)) ?? (await attempt(true));
    if (!done) throw new Error('batch could not be applied');
    const { commands, result, outbox, committed } = done;
    if (committed === 'fenced') {
      counters.fenced += 1;
      owned.delete(partition);
      log.warn({ partition, epoch: ownership.epoch }, 'fenced: another allocator owns this partition now');
      return;
    }
    const outboxId = committed;

    // Committed: only now does the in-memory state move forward.
    for (const [id, state] of result.changedSlots) setRecent(ownership.slots, id, state);
    // Only between batches: a batch's slots are all in memory while it is applied.
    dropOldest(ownership.slots, config.cachedSlotsPerPartition ?? 1000);
    ownership.nextOffset = nextOffset;
    resolveOffset(lastOffset);
    counters.batches += 1;
    counters.commands += commands.length;

    if (outboxId) {
      try {
        await Promise.all(outbox.map((m) => sender!.send(m.topic, { key: m.key, value: m.value, headers: m.headers })));
        publishedOutboxIds.push(outboxId);
      } catch (err) {
        // The rows stay in the outbox; the relay timer (or the next owner) publishes them.
        log.warn({ partition, err: (err as Error).message }, 'publish failed; left in outbox');
        unpublished.set(partition, []);
      }
    }
    await heartbeat();
  }

  async function deletePublished(): Promise<void> {
    if (publishedOutboxIds.length === 0) return;
    const ids = publishedOutboxIds;
    publishedOutboxIds = [];
    // A row left behind by a failed delete is only republished (harmless: replies and snapshots are idempotent).
    await pool.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [ids]).catch((err) => log.warn({ err }, 'outbox delete failed'));
  }

  /**
   * Publishes outbox rows that have waited longer than STALE_OUTBOX_MS on our partitions. A partition
   * is only claimed (and its leftovers relayed) when a command for it arrives, so without this a row
   * left by an owner killed between commit and publish would wait for the next booking on that
   * partition, which may never come. Publishing twice is harmless; losing a reply or event is not.
   */
  async function sweepStaleOutbox(): Promise<void> {
    if (assigned.length === 0 || Date.now() - lastSweep < OUTBOX_SWEEP_EVERY_MS) return;
    lastSweep = Date.now();
    const { rows } = await pool.query<{ id: string; kafka_partition: number; messages: OutboxMessage[] }>(
      `SELECT id, kafka_partition, messages FROM outbox
        WHERE source_topic = $1 AND kafka_partition = ANY($2::int[])
          AND created_at < now() - make_interval(secs => $3 / 1000.0)
        ORDER BY id LIMIT 1000`,
      [topics.commands, assigned, STALE_OUTBOX_MS],
    );
    await publishRows(rows);
    if (rows.length) log.warn({ rows: rows.length, partitions: [...new Set(rows.map((r) => r.kafka_partition))] }, 'stale outbox rows published');
  }

  let upkeep: OutboxUpkeep | null = null;

  async function relayPending(): Promise<void> {
    await deletePublished();
    await sweepStaleOutbox().catch((err) => log.warn({ err: (err as Error).message }, 'outbox sweep failed; will retry'));
    await upkeep?.runIfDue().catch((err) => log.warn({ err: (err as Error).message }, 'outbox vacuum failed; will retry'));
    for (const partition of [...unpublished.keys()]) {
      if (!owned.has(partition)) {
        unpublished.delete(partition);
        continue;
      }
      try {
        await relayLeftovers(partition);
        unpublished.delete(partition);
      } catch (err) {
        log.warn({ partition, err: (err as Error).message }, 'outbox relay failed; will retry');
      }
    }
  }

  let stopping = false;

  async function startConsumer(): Promise<void> {
    const fresh = kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 10_000,
      minBytes: config.fetchMinBytes ?? 8192,
      maxWaitTimeInMs: config.fetchMaxWaitMs ?? 20,
      maxBytesPerPartition: 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    consumer = fresh;
    fresh.on(fresh.events.GROUP_JOIN, ({ payload }) => {
      // Whatever we owned before the rebalance may have had another owner in between: reload.
      owned.clear();
      assigned = payload.memberAssignment[topics.commands] ?? [];
      running = true;
      log.info({ assignment: payload.memberAssignment }, 'joined allocator group');
    });
    fresh.on(fresh.events.CRASH, ({ payload }) => {
      log.error({ err: payload.error, restart: payload.restart }, 'allocator consumer crashed');
      owned.clear();
      if (!payload.restart) running = false;
    });
    restartAfterFatalCrash(fresh, { name: 'allocator', logger: log, restart: startConsumer, isStopping: () => stopping });
    try {
      await fresh.connect();
      await fresh.subscribe({ topic: topics.commands, fromBeginning: true });
    } catch (err) {
      await fresh.disconnect().catch(() => undefined);
      throw err;
    }
    // Not awaited: joining the group can outlast a start-up timeout (a killed predecessor stays a
    // member until its session times out). Readiness turns true on GROUP_JOIN.
    fresh
      .run({
        eachBatchAutoResolve: false,
        autoCommitInterval: 1000,
        partitionsConsumedConcurrently: config.partitionsConcurrency,
        eachBatch: handleBatch,
      })
      .catch((err) => {
        log.error({ err }, 'allocator consumer failed to start');
        running = false;
      });
  }

  return {
    async start() {
      stopping = false;
      await ensureTopics(kafka, topics, config.kafka.partitions);
      producer = createProducer(kafka);
      await producer.connect();
      sender = createBatchingSender(producer, { lingerMs: 0, maxBatch: 5000 });
      upkeep = await createOutboxUpkeep(pool, { everyMs: config.outboxVacuumEveryMs ?? 30_000, logger: log });
      await startConsumer();
      relayTimer = setInterval(() => {
        relaying ??= relayPending()
          .catch((err) => log.warn({ err: (err as Error).message }, 'outbox relay failed; will retry'))
          .finally(() => (relaying = null));
      }, 250);
      log.info({ topic: topics.commands, group: config.groupId }, 'allocator started');
    },
    async stop() {
      stopping = true;
      running = false;
      if (relayTimer) clearInterval(relayTimer);
      await relaying;
      await consumer?.disconnect().catch((err) => log.warn({ err }, 'consumer disconnect failed'));
      await sender?.flush();
      await deletePublished();
      await producer?.disconnect().catch((err) => log.warn({ err }, 'producer disconnect failed'));
      owned.clear();
    },
    isRunning: () => running,
    stats: () => ({ ...counters }),
  };
}
