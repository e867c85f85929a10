/** Reading slot state from PostgreSQL: used by the allocator to load a partition's slots and by the read side to rebuild a view. */
import type { Pool, PoolClient } from 'pg';
import type { SlotRecord, SlotState, SourceQuota, TokenRecord } from '../domain/model';
import type { SlotStatus, Source, TokenStatus } from '../schemas/common';

type Queryable = Pool | PoolClient;

interface SlotRow {
  id: string;
  doctor_id: string;
  branch_id: string;
  starts_at: Date;
  ends_at: Date;
  capacity: number;
  status: SlotStatus;
  next_number: number;
  version: string;
  // From migration 002 (optional so a row read before it still maps).
  delay_minutes?: number;
  label_prefix?: string | null;
  label_base?: number;
  // From migration 003.
  quotas?: SourceQuota[] | null;
  consultation_minutes?: number | null;
  consultation_samples?: number;
  estimate_base?: Date | null;
}

interface TokenRow {
  id: string;
  slot_id: string;
  number: number;
  source: Source;
  weight: number;
  status: TokenStatus;
  over_capacity: boolean;
  patient: TokenRecord['patient'];
  created_at: Date;
  arrival_at: Date;
  updated_at: Date;
  cancel_reason: string | null;
  // From migration 002.
  label?: string | null;
  recall_count?: number;
  moved_from?: string | null;
  moved_to?: string | null;
  // From migration 003.
  called_at?: Date | null;
  completed_at?: Date | null;
}

export function slotFromRow(row: SlotRow): SlotRecord {
  return {
    id: row.id,
    doctorId: row.doctor_id,
    branchId: row.branch_id,
    start: row.starts_at.toISOString(),
    end: row.ends_at.toISOString(),
    capacity: row.capacity,
    status: row.status,
    nextNumber: row.next_number,
    version: Number(row.version),
    delayMinutes: row.delay_minutes ?? 0,
    ...(row.label_prefix ? { labelPrefix: row.label_prefix, labelBase: row.label_base ?? 0 } : {}),
    ...(row.quotas ? { quotas: row.quotas } : {}),
    ...(row.consultation_minutes != null
      ? { consultation: { averageMinutes: Number(row.consultation_minutes), samples: row.consultation_samples ?? 0 } }
      : {}),
    ...(row.estimate_base ? { estimateBase: row.estimate_base.toISOString() } : {}),
  };
}

export function tokenFromRow(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    slotId: row.slot_id,
    number: row.number,
    source: row.source,
    weight: row.weight,
    status: row.status,
    overCapacity: row.over_capacity,
    patient: row.patient,
    createdAt: row.created_at.toISOString(),
    arrivalAt: row.arrival_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(row.cancel_reason ? { cancelReason: row.cancel_reason } : {}),
    ...(row.label ? { label: row.label } : {}),
    ...(row.recall_count ? { recallCount: row.recall_count } : {}),
    ...(row.moved_from ? { movedFrom: row.moved_from } : {}),
    ...(row.status === 'MOVED' ? { movedTo: row.moved_to ?? null } : {}),
    ...(row.called_at ? { calledAt: row.called_at.toISOString() } : {}),
    ...(row.completed_at ? { completedAt: row.completed_at.toISOString() } : {}),
  };
}

/** Loads the given slots with all their tokens in two queries; unknown ids are simply absent. */
export async function loadSlotStates(db: Queryable, slotIds: readonly string[]): Promise<Map<string, SlotState>> {
  const states = new Map<string, SlotState>();
  if (slotIds.length === 0) return states;
  const ids = [...new Set(slotIds)];
  const slots = await db.query<SlotRow>('SELECT * FROM slots WHERE id = ANY($1::text[])', [ids]);
  for (const row of slots.rows) states.set(row.id, { slot: slotFromRow(row), tokens: [] });
  if (states.size === 0) return states;
  const tokens = await db.query<TokenRow>(
    'SELECT * FROM tokens WHERE slot_id = ANY($1::text[]) ORDER BY slot_id, number',
    [[...states.keys()]],
  );
  for (const row of tokens.rows) states.get(row.slot_id)?.tokens.push(tokenFromRow(row));
  return states;
}

/** Which slot a token belongs to; null when the token is unknown. */
export async function findTokenSlotId(db: Queryable, tokenId: string): Promise<string | null> {
  const { rows } = await db.query<{ slot_id: string }>('SELECT slot_id FROM tokens WHERE id = $1', [tokenId]);
  return rows[0]?.slot_id ?? null;
}
