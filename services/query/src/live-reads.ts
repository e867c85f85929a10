/**
 * Reads behind the live endpoints and pages. Views come from the Redis read model (rebuilt from
 * PostgreSQL when missing, like every other read); which slots a branch has today, doctors' names
 * and the recent calls of a slot are reference data read from PostgreSQL.
 */
import type { Pool } from 'pg';
import { findTokenSlotId, loadSlotStates } from '@opd/shared';
import type { ViewStore } from './view-store';

export interface DoctorInfo {
  id: string;
  name: string;
  department: string | null;
}

export interface RecentCall {
  id: string;
  number: number;
  /** The token's label (e.g. SMI-007) where it has one. */
  label?: string;
  status: string;
  /** When the token last changed (called, or completed after the call). */
  at: string;
}

export interface BranchSlotRow {
  slotId: string;
  doctor: DoctorInfo;
}

export interface LiveReads {
  viewBody(slotId: string): Promise<string | null>;
  slotBody(slotId: string): Promise<string | null>;
  tokenBody(tokenId: string): Promise<string | null>;
  /** false when no doctor belongs to the branch. */
  branchExists(branchId: string): Promise<boolean>;
  branchSlots(branchId: string, date: string, doctorId?: string): Promise<BranchSlotRow[]>;
  recentCalls(slotIds: string[], perSlot: number): Promise<Map<string, RecentCall[]>>;
  doctor(doctorId: string): Promise<DoctorInfo | null>;
  today(): string;
}

export function createLiveReads(deps: { store: ViewStore; pool: Pool; timeZone: string }): LiveReads {
  const { store, pool, timeZone } = deps;
  const dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });

  async function rebuild(slotId: string): Promise<boolean> {
    const state = (await loadSlotStates(pool, [slotId])).get(slotId);
    if (!state) return false;
    await store.save(state);
    return true;
  }

  async function readThrough(read: () => Promise<string | null>, slotId: () => Promise<string | null>): Promise<string | null> {
    const cached = await read();
    if (cached !== null) return cached;
    const id = await slotId();
    if (!id || !(await rebuild(id))) return null;
    return read();
  }

  return {
    viewBody: (slotId) => readThrough(() => store.getViewBody(slotId), async () => slotId),
    slotBody: (slotId) => readThrough(() => store.getSlotBody(slotId), async () => slotId),
    tokenBody: (tokenId) => readThrough(() => store.getTokenBody(tokenId), () => findTokenSlotId(pool, tokenId)),
    async branchExists(branchId) {
      const { rows } = await pool.query('SELECT 1 FROM doctors WHERE branch_id = $1 LIMIT 1', [branchId]);
      return rows.length > 0;
    },
    async branchSlots(branchId, date, doctorId) {
      const { rows } = await pool.query<{ id: string; doctor_id: string; name: string; department: string | null }>(
        `SELECT s.id, s.doctor_id, d.name, d.department
           FROM slots s JOIN doctors d ON d.id = s.doctor_id
          WHERE s.branch_id = $1
            AND (s.starts_at AT TIME ZONE $3)::date = $2::date
            AND ($4::text IS NULL OR s.doctor_id = $4)
          ORDER BY s.starts_at, d.name, s.id`,
        [branchId, date, timeZone, doctorId ?? null],
      );
      return rows.map((r) => ({ slotId: r.id, doctor: { id: r.doctor_id, name: r.name, department: r.department } }));
    },
    async recentCalls(slotIds, perSlot) {
      const result = new Map<string, RecentCall[]>();
      if (slotIds.length === 0) return result;
      // to_jsonb(...) ->> 'label' reads the label column where the schema has it, else null.
      const { rows } = await pool.query<{ id: string; slot_id: string; number: number; label: string | null; status: string; updated_at: Date }>(
        `SELECT id, slot_id, number, label, status, updated_at FROM (
           SELECT id, slot_id, number, to_jsonb(tokens) ->> 'label' AS label, status, updated_at,
                  row_number() OVER (PARTITION BY slot_id ORDER BY updated_at DESC, number DESC) AS rn
             FROM tokens
            WHERE slot_id = ANY($1::text[]) AND status IN ('CALLED', 'COMPLETED')
         ) recent
         WHERE rn <= $2
         ORDER BY slot_id, updated_at DESC, number DESC`,
        [slotIds, perSlot],
      );
      for (const row of rows) {
        const list = result.get(row.slot_id) ?? [];
        list.push({ id: row.id, number: row.number, ...(row.label ? { label: row.label } : {}), status: row.status, at: row.updated_at.toISOString() });
        result.set(row.slot_id, list);
      }
      return result;
    },
    async doctor(doctorId) {
      const { rows } = await pool.query<{ id: string; name: string; department: string | null }>(
        'SELECT id, name, department FROM doctors WHERE id = $1',
        [doctorId],
      );
      return rows[0] ?? null;
    },
    today: () => dayFormat.format(new Date()),
  };
}
