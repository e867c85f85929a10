/**
 * The seeded workload: branches, doctors and slots with realistic capacities, and the stream of
 * operations (bookings from all five sources, some cancellations of earlier bookings).
 */
import { call, mapLimit } from './api';
import type { Op } from './load';
import type { Rng } from '../lib/rng';

export const SOURCES = [
  ['ONLINE', 40],
  ['WALK_IN', 35],
  ['FOLLOW_UP', 10],
  ['PAID_PRIORITY', 8],
  ['EMERGENCY', 7],
] as const;

export const BRANCHES = 3;
export const DOCTORS_PER_BRANCH = 8;
const SLOT_LENGTH_MS = 2 * 60 * 60 * 1000;
/** A slot is not given more bookings than this share of its capacity, so none fills during a run. */
const FILL_LIMIT = 0.8;

export interface BenchSlot {
  id: string;
  doctorId: string;
  branchId: string;
  capacity: number;
}

export interface Setup {
  runId: string;
  doctors: string[];
  slots: BenchSlot[];
}

/** Doctors in BRANCHES branches; `count` slots spread over them, back to back from now, capacity 20..40. */
export async function setup(url: string, rng: Rng, count: number, log: (line: string) => void): Promise<Setup> {
  const runId = String(Date.now() % 100_000_000);
  const doctors: { id: string; branchId: string }[] = [];
  for (let b = 1; b <= BRANCHES; b += 1) {
    for (let d = 1; d <= DOCTORS_PER_BRANCH; d += 1) {
      const branchId = `bench-branch-${b}`;
      const response = await call(url, 'POST', '/api/doctors', { branchId, name: `Bench Doctor ${runId} ${b}.${d}`, department: 'General Medicine' });
      if (response.status !== 201 && response.status !== 200) throw new Error(`POST /api/doctors -> ${response.status} ${JSON.stringify(response.body)}`);
      doctors.push({ id: response.body.doctor.id, branchId });
    }
  }
  const base = Date.now() + 60_000;
  const plan = Array.from({ length: count }, (_, i) => {
    const doctor = doctors[i % doctors.length];
    const nth = Math.floor(i / doctors.length);
    const start = new Date(base + nth * SLOT_LENGTH_MS);
    return { doctor, start, end: new Date(start.getTime() + SLOT_LENGTH_MS), capacity: 20 + rng.int(21) };
  });
  const t0 = Date.now();
  let done = 0;
  const slots = await mapLimit(plan, 32, async (p): Promise<BenchSlot> => {
    const response = await call(url, 'POST', '/api/slots', { doctorId: p.doctor.id, start: p.start.toISOString(), end: p.end.toISOString(), capacity: p.capacity }, 30_000);
    if (response.status !== 201 && response.status !== 202) throw new Error(`POST /api/slots -> ${response.status} ${JSON.stringify(response.body)}`);
    done += 1;
    if (done % 1000 === 0) log(`  ${done}/${plan.length} slots created`);
    return { id: response.body.slot.id, doctorId: p.doctor.id, branchId: p.doctor.branchId, capacity: p.capacity };
  });
  log(`setup: ${doctors.length} doctors in ${BRANCHES} branches, ${slots.length} slots (capacity 20..40) in ${Date.now() - t0} ms`);
  return { runId, doctors: doctors.map((d) => d.id), slots };
}

/** Book (with a weighted source and a unique patient) or, with `cancelShare`, cancel an earlier booking. */
export function operations(rng: Rng, run: Setup, cancelShare: number) {
  const planned = new Map<string, number>();
  const booked: string[] = [];
  const cancelled = new Set<string>();
  const sourceCounts: Record<string, number> = {};
  let counter = 0;
  let full = 0;

  function pickSlot(): BenchSlot {
    for (let tries = 0; tries < 8; tries += 1) {
      const slot = run.slots[rng.int(run.slots.length)];
      if ((planned.get(slot.id) ?? 0) < slot.capacity * FILL_LIMIT) return slot;
    }
    const open = run.slots.find((s) => (planned.get(s.id) ?? 0) < s.capacity * FILL_LIMIT);
    if (!open) full += 1;
    return open ?? run.slots[rng.int(run.slots.length)];
  }

  return {
    sourceCounts,
    booked,
    get plannedFull() {
      return full;
    },
    /** The `n` slots with the most room left (for the stream measurements, which book into them). */
    roomiest(n: number): BenchSlot[] {
      return [...run.slots].sort((a, b) => b.capacity - (planned.get(b.id) ?? 0) - (a.capacity - (planned.get(a.id) ?? 0))).slice(0, n);
    },
    book(slot?: BenchSlot): Op {
      counter += 1;
      const target = slot ?? pickSlot();
      planned.set(target.id, (planned.get(target.id) ?? 0) + 1);
      const source = rng.weighted(SOURCES);
      sourceCounts[source] = (sourceCounts[source] ?? 0) + 1;
      const body = { slotId: target.id, source, patient: { name: `Bench Patient ${run.runId}-${counter}`, phone: `+91-${run.runId}-${counter}` } };
      return { kind: 'book', method: 'POST', path: '/api/tokens/book', body: JSON.stringify(body) };
    },
    next(): Op {
      if (booked.length > 0 && rng.next() < cancelShare) {
        for (let tries = 0; tries < 4; tries += 1) {
          const id = booked[rng.int(booked.length)];
          if (cancelled.has(id)) continue;
          cancelled.add(id);
          return { kind: 'cancel', method: 'PATCH', path: `/api/tokens/${id}/cancel`, body: JSON.stringify({ reason: 'bench' }) };
        }
      }
      return this.book();
    },
    /** Feed every answer back: 201 bookings become candidates for cancellation. */
    observe(kind: string, status: number, body: string) {
      if (kind !== 'book' || status !== 201) return;
      const id = /"token":\{"id":"([^"]+)"/.exec(body)?.[1] ?? (JSON.parse(body) as { token?: { id?: string } }).token?.id;
      if (id) booked.push(id);
    },
  };
}
