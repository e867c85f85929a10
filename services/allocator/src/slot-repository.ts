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
  }));
  await client.query(
    `INSERT INTO slots (id, doctor_id, branch_id, starts_at, ends_at, capacity, status, active_count, next_number, version, kafka_partition)
     SELECT id, doctor_id, branch_id, starts_at, ends_at, capacity, status, active_count, next_number, version, kafka_partition
       FROM jsonb_to_recordset($1::jsonb) AS s(id text, doctor_id text, branch_id text, starts_at timestamptz,
            ends_at timestamptz, capacity int, status text, active_count int, next_number int, version bigint, kafka_partition int)
     ON CONFLICT (id) DO UPDATE SET capacity = EXCLUDED.capacity, status = EXCLUDED.status,
       active_count = EXCLUDED.active_count, next_number = EXCLUDED.next_number, version = EXCLUDED.version,
       starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at`,
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
  }));
  await client.query(
    `INSERT INTO tokens (id, slot_id, number, source, weight, status, over_capacity, patient, created_at, arrival_at, updated_at, cancel_reason)
     SELECT id, slot_id, number, source, weight, status, over_capacity, patient, created_at, arrival_at, updated_at, cancel_reason
       FROM jsonb_to_recordset($1::jsonb) AS t(id text, slot_id text, number int, source text, weight smallint, status text,
            over_capacity boolean, patient jsonb, created_at timestamptz, arrival_at timestamptz, updated_at timestamptz, cancel_reason text)
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at,
       cancel_reason = EXCLUDED.cancel_reason`,
    [JSON.stringify(rows)],
  );
}

export interface DoctorInfo {
  id: string;
  branchId: string;
}

export async function findDoctors(db: Pool, ids: readonly string[]): Promise<Map<string, DoctorInfo>> {
  const found = new Map<string, DoctorInfo>();
  if (ids.length === 0) return found;
  const { rows } = await db.query<{ id: string; branch_id: string }>(
    'SELECT id, branch_id FROM doctors WHERE id = ANY($1::text[])',
    [[...new Set(ids)]],
  );
  for (const row of rows) found.set(row.id, { id: row.id, branchId: row.branch_id });
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
