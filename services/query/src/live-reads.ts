/**
 * Reads behind the live endpoints and pages, all from the Redis read model: views, the branch's
 * slot index, doctors' names and the recent calls each view carries. PostgreSQL is read only to
 * rebuild what Redis does not hold (after a flush, or a name not seen yet).
 */
import type { Pool } from 'pg';
import { dayRange, findTokenSlotId, loadSlotStates } from '@opd/shared';
import type { ViewStore } from './view-store';

export interface DoctorInfo {
  id: string;
  name: string;
  department: string | null;
}

export interface BranchSlotRow {
  slotId: string;
  doctor: DoctorInfo;
}

export interface LiveReads {
  viewBody(slotId: string): Promise<string | null>;
  slotBody(slotId: string): Promise<string | null>;
  tokenBody(tokenId: string): Promise<string | null>;
  /** The doctor's slots starting in [from, to) (epoch ms), from the index (rebuilt when missing). */
  doctorSlots(doctorId: string, from: number, to: number): Promise<string[]>;
  /** false when no doctor belongs to the branch. */
  branchExists(branchId: string): Promise<boolean>;
  branchSlots(branchId: string, date: string, doctorId?: string): Promise<BranchSlotRow[]>;
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

  /** The branch's slot index, rebuilt from PostgreSQL when Redis lost it. */
  async function branchIndex(branchId: string, from: number, to: number) {
    const cached = await store.branchSlots(branchId, from, to);
    if (cached) return cached;
    const { rows } = await pool.query<{ id: string; doctor_id: string; starts_at: Date }>(
      'SELECT id, doctor_id, starts_at FROM slots WHERE branch_id = $1',
      [branchId],
    );
    await store.indexSlots(
      rows.map((r) => ({ slotId: r.id, branchId, doctorId: r.doctor_id, start: r.starts_at.toISOString() })),
      { branchIds: [branchId] },
    );
    return (await store.branchSlots(branchId, from, to)) ?? [];
  }

  /** Doctors' records from the Redis cache, the missing ones from PostgreSQL. */
  async function doctors(ids: string[]): Promise<Map<string, DoctorInfo>> {
    const unique = [...new Set(ids)];
    const found = new Map<string, DoctorInfo>();
    const cached = await store.getDoctors(unique);
    const missing: string[] = [];
    unique.forEach((id, i) => (cached[i] ? found.set(id, JSON.parse(cached[i]!) as DoctorInfo) : missing.push(id)));
    if (missing.length) {
      const { rows } = await pool.query<DoctorInfo>('SELECT id, name, department FROM doctors WHERE id = ANY($1::text[])', [missing]);
      for (const row of rows) found.set(row.id, { id: row.id, name: row.name, department: row.department });
      await store.saveDoctors(rows.map((row) => ({ id: row.id, body: JSON.stringify(found.get(row.id)) })));
    }
    return found;
  }

  async function doctorIndex(doctorId: string, from: number, to: number): Promise<string[]> {
    const cached = await store.doctorSlots(doctorId, from, to);
    if (cached) return cached;
    const { rows } = await pool.query<{ id: string; branch_id: string; starts_at: Date }>(
      'SELECT id, branch_id, starts_at FROM slots WHERE doctor_id = $1',
      [doctorId],
    );
    await store.indexSlots(
      rows.map((r) => ({ slotId: r.id, branchId: r.branch_id, doctorId, start: r.starts_at.toISOString() })),
      { doctorIds: [doctorId] },
    );
    return (await store.doctorSlots(doctorId, from, to)) ?? [];
  }

  const viewBody = (slotId: string) => readThrough(() => store.getViewBody(slotId), async () => slotId);

  return {
    viewBody,
    slotBody: (slotId) => readThrough(() => store.getSlotBody(slotId), async () => slotId),
    tokenBody: (tokenId) => readThrough(() => store.getTokenBody(tokenId), () => findTokenSlotId(pool, tokenId)),
    doctorSlots: doctorIndex,
    async branchExists(branchId) {
      if ((await branchIndex(branchId, -Infinity, Infinity)).length > 0) return true;
      // A branch with doctors but no slots yet still exists.
      const { rows } = await pool.query('SELECT 1 FROM doctors WHERE branch_id = $1 LIMIT 1', [branchId]);
      return rows.length > 0;
    },
    async branchSlots(branchId, date, doctorId) {
      const [from, to] = dayRange(date, timeZone);
      const entries = (await branchIndex(branchId, from, to)).filter((e) => !doctorId || e.doctorId === doctorId);
      const known = await doctors(entries.map((e) => e.doctorId));
      return entries.flatMap((e) => {
        const doctor = known.get(e.doctorId);
        return doctor ? [{ slotId: e.slotId, doctor }] : [];
      });
    },
    async doctor(doctorId) {
      return (await doctors([doctorId])).get(doctorId) ?? null;
    },
    today: () => dayFormat.format(new Date()),
  };
}
