/** The allocator's writes: one multi-row statement per table per batch, inside the batch's transaction. */
import type { PoolClient, Pool } from 'pg';
import { activeCount, type SlotState, type TokenRecord } from '@opd/shared';

export interface SlotWrite {
  state: SlotState;
  partition: number;
}

export async function upsertSlots(client: PoolClient, writes: readonly SlotWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const rows = writes.map(({ state: { slot, tokens }, partition }) => ({
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
  await client.query(
    `INSERT INTO slots (id, doctor_id, branch_id, starts_at, ends_at, capacity, status, active_count, next_number, version, kafka_partition,
                        delay_minutes, label_prefix, label_base, quotas, consultation_minutes, consultation_samples, estimate_base)
     SELECT id, doctor_id, branch_id, starts_at, ends_at, capacity, status, active_count, next_number, version, kafka_partition,
            delay_minutes, label_prefix, label_base, quotas, consultation_minutes, consultation_samples, estimate_base
       FROM jsonb_to_recordset($1::jsonb) AS s(id text, doctor_id text, branch_id text, starts_at timestamptz,
            ends_at timestamptz, capacity int, status text, active_count int, next_number int, version bigint, kafka_partition int,
            delay_minutes int, label_prefix text, label_base int, quotas jsonb, consultation_minutes double precision,
            consultation_samples int, estimate_base timestamptz)
     ON CONFLICT (id) DO UPDATE SET capacity = EXCLUDED.capacity, status = EXCLUDED.status,
       active_count = EXCLUDED.active_count, next_number = EXCLUDED.next_number, version = EXCLUDED.version,
       starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, delay_minutes = EXCLUDED.delay_minutes,
       quotas = EXCLUDED.quotas, consultation_minutes = EXCLUDED.consultation_minutes,
       consultation_samples = EXCLUDED.consultation_samples, estimate_base = EXCLUDED.estimate_base`,
    [JSON.stringify(rows)],
  );
}

export async function upsertTokens(client: PoolClient, tokens: readonly TokenRecord[]): Promise<void> {
  if (tokens.length === 0) return;
  const rows = tokens.map((t) => ({
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
  await client.query(
    `INSERT INTO tokens (id, slot_id, number, source, weight, status, over_capacity, patient, created_at, arrival_at, updated_at, cancel_reason,
                         label, recall_count, moved_from, moved_to, called_at, completed_at)
     SELECT id, slot_id, number, source, weight, status, over_capacity, patient, created_at, arrival_at, updated_at, cancel_reason,
            label, recall_count, moved_from, moved_to, called_at, completed_at
       FROM jsonb_to_recordset($1::jsonb) AS t(id text, slot_id text, number int, source text, weight smallint, status text,
            over_capacity boolean, patient jsonb, created_at timestamptz, arrival_at timestamptz, updated_at timestamptz, cancel_reason text,
            label text, recall_count int, moved_from text, moved_to text, called_at timestamptz, completed_at timestamptz)
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at,
       cancel_reason = EXCLUDED.cancel_reason, recall_count = EXCLUDED.recall_count, moved_to = EXCLUDED.moved_to,
       called_at = EXCLUDED.called_at, completed_at = EXCLUDED.completed_at`,
    [JSON.stringify(rows)],
  );
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
