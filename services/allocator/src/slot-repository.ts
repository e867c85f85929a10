/** The allocator's reads and writes in PostgreSQL; a batch is committed in one statement. */
import type { Pool } from 'pg';
import { activeCount, type SlotState, type TokenRecord } from '@opd/shared';

export interface SlotWrite {
  state: SlotState;
  partition: number;
}

function slotRows(writes: readonly SlotWrite[]) {
  return writes.map(({ state: { slot, tokens }, partition }) => ({
    id: slot.id,
    doctor_id: slot.doctorId,
    branch_id: slot.branchId,
    starts_at: slot.start,
    ends_at: slot.end,
    capacity: slot.capacity,
    status: slot.status,
    active_count: activeCount(tokens),
    next_number: slot.nextNumber,
    version: slot.version,
    kafka_partition: partition,
    delay_minutes: slot.delayMinutes ?? 0,
    label_prefix: slot.labelPrefix ?? null,
    label_base: slot.labelBase ?? 0,
    quotas: slot.quotas ?? [],
    consultation_minutes: slot.consultation?.averageMinutes ?? null,
    consultation_samples: slot.consultation?.samples ?? 0,
    estimate_base: slot.estimateBase ?? null,
  }));
}

function tokenRows(tokens: readonly TokenRecord[]) {
  return tokens.map((t) => ({
    id: t.id,
    slot_id: t.slotId,
    number: t.number,
    source: t.source,
    weight: t.weight,
    status: t.status,
    over_capacity: t.overCapacity,
    patient: t.patient,
    created_at: t.createdAt,
    arrival_at: t.arrivalAt,
    updated_at: t.updatedAt,
    cancel_reason: t.cancelReason ?? null,
    label: t.label ?? null,
    recall_count: t.recallCount ?? 0,
    moved_from: t.movedFrom ?? null,
    moved_to: t.movedTo ?? null,
    called_at: t.calledAt ?? null,
    completed_at: t.completedAt ?? null,
  }));
}

export interface BatchCommit {
  topic: string;
  partition: number;
  epoch: number;
  nextOffset: number;
  slots: readonly SlotWrite[];
  tokens: readonly TokenRecord[];
  outbox: readonly unknown[];
  /** Forwarded commands decided in this batch, so a republished copy is recognised. */
  forwarded: readonly { commandId: string; slotId: string }[];
}

/**
 * Commits a batch in one statement (`opd_commit_batch`, migration 005). Returns the outbox row id
 * (null when there was nothing to publish), or 'fenced' when another allocator owns the partition.
 */
export async function commitBatch(db: Pool, batch: BatchCommit): Promise<string | null | 'fenced'> {
  return (await commitBatches(db, [batch]))[0];
}

/**
 * Commits several partitions' batches in one statement, so one round trip and one WAL flush
 * serve all of them (group commit). Each batch is fenced on its own: the result per batch is
 * what commitBatch would answer. An error fails them all; the caller then commits one by one.
 */
export async function commitBatches(db: Pool, batches: readonly BatchCommit[]): Promise<(string | null | 'fenced')[]> {
  const params: unknown[] = [];
  const calls = batches.map((batch, i) => {
    const n = i * 8;
    params.push(
      batch.topic,
      batch.partition,
      batch.epoch,
      batch.nextOffset,
      JSON.stringify(slotRows(batch.slots)),
      JSON.stringify(tokenRows(batch.tokens)),
      JSON.stringify(batch.outbox),
      JSON.stringify(batch.forwarded.map((f) => ({ command_id: f.commandId, slot_id: f.slotId }))),
    );
    return `opd_commit_batch($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}::jsonb, $${n + 6}::jsonb, $${n + 7}::jsonb, $${n + 8}::jsonb) AS o${i}`;
  });
  const { rows } = await db.query<Record<string, string | null>>(`SELECT ${calls.join(', ')}`, params);
  return batches.map((_, i) => {
    const id = rows[0][`o${i}`];
    if (id === null) return 'fenced';
    return id === '0' ? null : id;
  });
}

export interface DoctorInfo {
  id: string;
  branchId: string;
  /** For the token label prefix. */
  name: string;
  /**
   * The doctor's slots from the start of yesterday (in the branch's time zone) on, as PostgreSQL
   * knows them: a new slot's label base is the sum of the capacities of the earlier ones the same day.
   */
  slots: { id: string; start: string; capacity: number }[];
  /** The consultation average of the doctor's latest slot with completed consultations; null if none. */
  averageConsultationMinutes: number | null;
}

/** Doctors of the batch's slot.create commands, with what slot creation needs (name, that day's slots). */
export async function findDoctors(db: Pool, ids: readonly string[], timeZone = 'UTC'): Promise<Map<string, DoctorInfo>> {
  const found = new Map<string, DoctorInfo>();
  if (ids.length === 0) return found;
  const unique = [...new Set(ids)];
  const { rows } = await db.query<{ id: string; branch_id: string; name: string }>(
    'SELECT id, branch_id, name FROM doctors WHERE id = ANY($1::text[])',
    [unique],
  );
  for (const row of rows) {
    found.set(row.id, { id: row.id, branchId: row.branch_id, name: row.name, slots: [], averageConsultationMinutes: null });
  }
  if (found.size === 0) return found;
  const slots = await db.query<{ id: string; doctor_id: string; starts_at: Date; capacity: number }>(
    `SELECT id, doctor_id, starts_at, capacity FROM slots
      WHERE doctor_id = ANY($1::text[]) AND starts_at >= date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2 - interval '1 day'
      ORDER BY starts_at, id LIMIT 5000`,
    [[...found.keys()], timeZone],
  );
  for (const row of slots.rows) {
    found.get(row.doctor_id)?.slots.push({ id: row.id, start: row.starts_at.toISOString(), capacity: row.capacity });
  }
  const measured = await db.query<{ doctor_id: string; consultation_minutes: number }>(
    `SELECT DISTINCT ON (doctor_id) doctor_id, consultation_minutes FROM slots
      WHERE doctor_id = ANY($1::text[]) AND consultation_samples > 0 AND consultation_minutes IS NOT NULL
      ORDER BY doctor_id, starts_at DESC, id DESC`,
    [[...found.keys()]],
  );
  for (const row of measured.rows) {
    const doctor = found.get(row.doctor_id);
    if (doctor) doctor.averageConsultationMinutes = Number(row.consultation_minutes);
  }
  return found;
}

/** Forwarded commands this batch holds that their slot has decided before (republished copies). */
export async function findDecidedForwards(db: Pool, commands: readonly { commandId: string; slotId: string }[]): Promise<Set<string>> {
  const decided = new Set<string>();
  if (commands.length === 0) return decided;
  const { rows } = await db.query<{ command_id: string; slot_id: string }>(
    'SELECT command_id, slot_id FROM forwarded_commands WHERE command_id = ANY($1::text[])',
    [commands.map((c) => c.commandId)],
  );
  for (const row of rows) decided.add(`${row.command_id} ${row.slot_id}`);
  return decided;
}

/** Where each of these token ids is booked already, if anywhere (token ids are global, slots are not). */
export async function findTokenSlots(db: Pool, tokenIds: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (tokenIds.length === 0) return found;
  const { rows } = await db.query<{ id: string; slot_id: string }>('SELECT id, slot_id FROM tokens WHERE id = ANY($1::text[])', [
    [...new Set(tokenIds)],
  ]);
  for (const row of rows) found.set(row.id, row.slot_id);
  return found;
}

export interface LaterSlot {
  slotId: string;
  start: string;
  end: string;
  available: number;
}

/**
 * Later open slots of a doctor, earliest first, as PostgreSQL last saw them. Advisory only: the
 * slot's own writer decides when a booking is forwarded there.
 */
export async function findLaterSlots(db: Pool, doctorId: string, after: string, now: string): Promise<LaterSlot[]> {
  const { rows } = await db.query<{ id: string; starts_at: Date; ends_at: Date; capacity: number; active_count: number }>(
    `SELECT id, starts_at, ends_at, capacity, active_count FROM slots
      WHERE doctor_id = $1 AND starts_at > $2 AND ends_at > $3 AND status = 'OPEN'
      ORDER BY starts_at, id LIMIT 20`,
    [doctorId, after, now],
  );
  return rows.map((r) => ({
    slotId: r.id,
    start: r.starts_at.toISOString(),
    end: r.ends_at.toISOString(),
    available: Math.max(0, r.capacity - r.active_count),
  }));
}
