/**
 * The seed's "one day in the OPD" scenario, played through the public HTTP contract only
 * (see docs / api-contract): three doctors, one slot each, Dr. Smith's slot filled with five
 * online bookings, a sixth online booking refused, then an emergency accepted at #1 on top of
 * the full slot (elastic capacity) without anybody being removed. Dr. Jones and Dr. Taylor get
 * a few bookings of mixed sources so their queues show the priority order.
 *
 * Used by `npm run simulate` (scripts/simulate.ts) and by test/integration/simulation.test.ts.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Doctor, Patient, Slot, SlotView, Source, Token } from '@opd/shared';
import { describe, errorCode, eventually, request, type JsonResponse } from './http';

// The contract's shapes: the same zod-derived types the services answer with.
export type { Doctor, Patient, Slot, SlotView, Source, Token } from '@opd/shared';

// ---- The scenario's result ----

export type DoctorKey = 'smith' | 'jones' | 'taylor';

export interface DoctorDay {
  key: DoctorKey;
  name: string;
  doctor: Doctor;
  slot: Slot;
  /** Tokens accepted (201) for this doctor, in booking order. */
  booked: Token[];
  /** The final view, once it reflects every accepted booking. */
  view: SlotView;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SeedFacts {
  emergencyToken: Token;
  /** The emergency's position as the booking answered it. */
  emergencyPosition: number | null;
  /** The emergency's place in Dr. Smith's final view (1-based), or null if absent. */
  emergencyViewPosition: number | null;
  emergencyOverCapacity: boolean;
  smithOnlineTokenIds: string[];
  /** How many of the five online tokens are still in Dr. Smith's queue after the emergency. */
  smithOnlineKept: number;
  smithQueueLength: number;
  /** The sixth online booking for Dr. Smith, expected to be refused with 409 SLOT_FULL. */
  refused: { status: number; code?: string; alternatives?: unknown };
}

export interface SeedResult {
  runId: string;
  doctors: Record<DoctorKey, DoctorDay>;
  facts: SeedFacts;
  /** Every expectation of the scenario; `ok` is true when all hold. */
  checks: Check[];
  ok: boolean;
}

export class ScenarioError extends Error {}

// ---- The plan ----

interface DoctorPlan {
  key: DoctorKey;
  name: string;
  department: string;
  capacity: number;
}

const PLANS: DoctorPlan[] = [
  { key: 'smith', name: 'Dr. Smith', department: 'General Medicine', capacity: 5 },
  { key: 'jones', name: 'Dr. Jones', department: 'Cardiology', capacity: 4 },
  { key: 'taylor', name: 'Dr. Taylor', department: 'Orthopaedics', capacity: 6 },
];

const SMITH_ONLINE = ['Asha Rao', 'Ben Carter', 'Chen Li', 'Divya Nair', 'Emma Brown'];
const SMITH_REFUSED = 'Farid Khan';
const SMITH_EMERGENCY = 'Grace Obi';

/** Arrival order; the queue must come out ordered by weight, then arrival. */
const MIXED: Record<'jones' | 'taylor', Array<{ source: Source; name: string }>> = {
  jones: [
    { source: 'ONLINE', name: 'Hana Sato' },
    { source: 'WALK_IN', name: 'Ivan Petrov' },
    { source: 'FOLLOW_UP', name: 'Julia Costa' },
    { source: 'PAID_PRIORITY', name: 'Karan Mehta' },
  ],
  taylor: [
    { source: 'WALK_IN', name: 'Liam Murphy' },
    { source: 'ONLINE', name: 'Maya Cohen' },
    { source: 'WALK_IN', name: 'Noor Ahmed' },
    { source: 'FOLLOW_UP', name: 'Oscar Silva' },
    { source: 'PAID_PRIORITY', name: 'Priya Shah' },
  ],
};

const SLOT_MINUTES = 60;
const VIEW_TIMEOUT_MS = 10_000;
const PENDING_TIMEOUT_MS = 15_000;

// ---- Formatting ----

function hhmm(iso: string, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone }).format(new Date(iso));
}

/**
 * A plain-text table of one doctor's slot: a header line (doctor, slot time, capacity,
 * active/available), then one row per token: the ones being served, the queue in order, and
 * the waitlist (positions W1, W2, ...).
 */
export function formatQueueTable(doctorName: string, view: SlotView, options: { timeZone?: string } = {}): string {
  const { slot } = view;
  const header =
    `${doctorName}  |  slot ${hhmm(slot.start, options.timeZone)}-${hhmm(slot.end, options.timeZone)}  |  ` +
    `capacity ${slot.capacity}  |  active ${slot.activeCount}, available ${slot.available}` +
    (slot.status === 'OPEN' ? '' : `  |  ${slot.status}`);

  const row = (pos: string, t: Token): string[] => [
    pos,
    `#${t.number}`,
    t.source,
    String(t.weight),
    t.status,
    t.patient.name,
    t.overCapacity ? 'over capacity' : '',
  ];
  const rows: string[][] = [
    ...view.nowServing.map((t) => row('now', t)),
    ...view.queue.map((t, i) => row(String(t.position ?? i + 1), t)),
    ...view.waitlist.map((t, i) => row(`W${t.position ?? i + 1}`, t)),
  ];
  const titles = ['Pos', 'Token', 'Source', 'Weight', 'Status', 'Patient', 'Note'];
  const widths = titles.map((title, c) => Math.max(title.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => '  ' + cells.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();

  const out = [header, line(titles), line(widths.map((w) => '-'.repeat(w)))];
  if (rows.length === 0) out.push('  (nobody waiting)');
  else out.push(...rows.map(line));
  return out.join('\n');
}

// ---- The scenario ----

function phoneFactory(): () => string {
  // Distinct phones within a run; a random block per run so reruns look like new patients.
  const block = String(randomInt(100, 1000));
  let next = 0;
  return () => `+91 98${block} ${String(++next).padStart(5, '0')}`;
}

/**
 * Runs the seed's scenario against `baseUrl` (the edge) and returns the final views and the
 * key facts. Throws ScenarioError when a step the scenario depends on fails (a doctor or slot
 * cannot be created, a booking that must be accepted is not, a view never appears); the other
 * expectations are reported in `checks` so a caller can print them all.
 */
export async function runSeedScenario(baseUrl: string, log: (line: string) => void): Promise<SeedResult> {
  const runId = randomBytes(3).toString('hex');
  const phone = phoneFactory();
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    if (!ok) log(`  ! expectation failed: ${name} (${detail})`);
  };

  // Doctors and their slots: a 60-minute window starting now, so booking is open.
  const setup = {} as Record<DoctorKey, { plan: DoctorPlan; doctor: Doctor; slot: Slot; booked: Token[] }>;
  const start = new Date();
  const end = new Date(start.getTime() + SLOT_MINUTES * 60_000);
  for (const plan of PLANS) {
    const doctor = await createDoctor(baseUrl, { id: `${plan.key}-${runId}`, branchId: 'main', name: plan.name, department: plan.department });
    const slot = await createSlot(baseUrl, { doctorId: doctor.id, start: start.toISOString(), end: end.toISOString(), capacity: plan.capacity });
    setup[plan.key] = { plan, doctor, slot, booked: [] };
    log(`${plan.name} (${doctor.id}, ${plan.department}): slot ${hhmm(slot.start)}-${hhmm(slot.end)}, capacity ${slot.capacity}`);
  }

  const bookOrThrow = async (key: DoctorKey, source: Source, name: string): Promise<Token> => {
    const { slot, plan, booked } = setup[key];
    const response = await book(baseUrl, { slotId: slot.id, source, patient: { name, phone: phone() } });
    if (response.status !== 201 || !response.token) {
      throw new ScenarioError(`${plan.name}: ${source} booking for ${name} was not accepted: ${describe(response.raw)}`);
    }
    const token = response.token;
    booked.push(token);
    log(
      `${`${plan.name}:`.padEnd(11)} ${source.padEnd(13)} ${name.padEnd(12)} -> 201 token #${token.number}, ${token.status}, position ${token.position}` +
        (token.overCapacity ? ', over capacity' : ''),
    );
    return token;
  };

  // 1. Dr. Smith's slot is filled with five online bookings.
  const smithOnline: Token[] = [];
  for (const name of SMITH_ONLINE) smithOnline.push(await bookOrThrow('smith', 'ONLINE', name));
  const fullView = await waitForView(baseUrl, setup.smith.slot.id, smithOnline.map((t) => t.id), smithOnline.length);
  check('Dr. Smith is full after 5 online bookings', fullView.slot.available === 0 && fullView.slot.activeCount === 5,
    `active ${fullView.slot.activeCount}, available ${fullView.slot.available}`);
  log(`${setup.smith.plan.name}: slot full (${fullView.slot.activeCount}/${fullView.slot.capacity})`);

  // 2. A sixth online booking is refused: the capacity is a hard limit for non-emergencies.
  const sixth = await book(baseUrl, { slotId: setup.smith.slot.id, source: 'ONLINE', patient: { name: SMITH_REFUSED, phone: phone() } });
  const refused = {
    status: sixth.status,
    code: errorCode(sixth.raw.body),
    alternatives: (sixth.raw.body as { error?: { details?: { alternatives?: unknown } } } | undefined)?.error?.details?.alternatives,
  };
  if (sixth.token) setup.smith.booked.push(sixth.token);
  log(`${`${setup.smith.plan.name}:`.padEnd(11)} ONLINE        ${SMITH_REFUSED.padEnd(12)} -> ${sixth.status} ${refused.code ?? sixth.token?.status ?? ''} (6th online booking)`);
  check('6th online booking refused with 409 SLOT_FULL', sixth.status === 409 && refused.code === 'SLOT_FULL', describe(sixth.raw));

  // 3. An emergency arrives: accepted at #1 on top of the full slot; nobody removed.
  const emergency = await bookOrThrow('smith', 'EMERGENCY', SMITH_EMERGENCY);
  check('emergency accepted at position 1', emergency.position === 1, `position ${emergency.position}`);
  check('emergency is over capacity', emergency.overCapacity === true, `overCapacity ${emergency.overCapacity}`);

  // 4. Mixed sources for Dr. Jones and Dr. Taylor.
  for (const key of ['jones', 'taylor'] as const) {
    for (const { source, name } of MIXED[key]) await bookOrThrow(key, source, name);
  }

  // 5. Wait until every view reflects its bookings, then check the queues.
  const doctors = {} as Record<DoctorKey, DoctorDay>;
  for (const plan of PLANS) {
    const { doctor, slot, booked } = setup[plan.key];
    const live = booked.filter((t) => t.status !== 'WAITLISTED');
    const view = await waitForView(baseUrl, slot.id, booked.map((t) => t.id), live.length);
    const shown = view.queue.length + view.nowServing.length + view.waitlist.length;
    check(`${plan.name}'s view reflects ${booked.length} bookings`, booked.every((t) => containsToken(view, t.id)) && shown === booked.length,
      `view shows ${shown} tokens (version ${view.version})`);
    check(`${plan.name}'s queue positions are 1..n`, view.queue.every((t, i) => t.position === i + 1),
      view.queue.map((t) => t.position).join(','));
    doctors[plan.key] = { key: plan.key, name: plan.name, doctor, slot: view.slot, booked, view };
  }

  const smithView = doctors.smith.view;
  const emergencyIndex = smithView.queue.findIndex((t) => t.id === emergency.id);
  const onlineIds = smithOnline.map((t) => t.id);
  const onlineKept = onlineIds.filter((id) => smithView.queue.some((t) => t.id === id)).length;
  check('emergency is first in Dr. Smith\'s queue', emergencyIndex === 0, `index ${emergencyIndex}`);
  check('Dr. Smith\'s queue holds 6 tokens', smithView.queue.length === 6, `queue length ${smithView.queue.length}`);
  check('all 5 online bookings kept', onlineKept === 5, `${onlineKept} of 5 still queued`);
  check(
    'online bookings keep their arrival order behind the emergency',
    smithView.queue.slice(1).map((t) => t.id).join() === onlineIds.join(),
    smithView.queue.map((t) => `#${t.number}`).join(' '),
  );
  check('Dr. Smith is at 6 active for capacity 5 (elastic)', smithView.slot.activeCount === 6 && smithView.slot.available === 0,
    `active ${smithView.slot.activeCount}, available ${smithView.slot.available}`);

  for (const key of ['jones', 'taylor'] as const) {
    const { view, name } = doctors[key];
    const expected = [...MIXED[key]]
      .map((entry, arrival) => ({ ...entry, arrival, weight: WEIGHTS[entry.source] }))
      .sort((a, b) => a.weight - b.weight || a.arrival - b.arrival)
      .map((entry) => entry.name);
    const actual = view.queue.map((t) => t.patient.name);
    check(`${name}'s queue is ordered by weight, then arrival`, isPriorityOrdered(view.queue) && actual.join() === expected.join(),
      `got ${actual.join(', ')}; expected ${expected.join(', ')}`);
  }

  const facts: SeedFacts = {
    emergencyToken: emergency,
    emergencyPosition: emergency.position,
    emergencyViewPosition: emergencyIndex >= 0 ? emergencyIndex + 1 : null,
    emergencyOverCapacity: emergency.overCapacity,
    smithOnlineTokenIds: onlineIds,
    smithOnlineKept: onlineKept,
    smithQueueLength: smithView.queue.length,
    refused,
  };
  return { runId, doctors, facts, checks, ok: checks.every((c) => c.ok) };
}

/** The contract's weights (lower is served first). */
export const WEIGHTS: Record<Source, number> = { EMERGENCY: 1, PAID_PRIORITY: 2, FOLLOW_UP: 3, ONLINE: 4, WALK_IN: 5 };

/** True when the tokens are ordered by weight, then by arrival (token number). */
export function isPriorityOrdered(tokens: Token[]): boolean {
  return tokens.every((t, i) => i === 0 || tokens[i - 1].weight < t.weight || (tokens[i - 1].weight === t.weight && tokens[i - 1].number < t.number));
}

function containsToken(view: SlotView, id: string): boolean {
  return [...view.nowServing, ...view.queue, ...view.waitlist].some((t) => t.id === id);
}

// ---- HTTP steps ----

async function createDoctor(base: string, body: { id: string; branchId: string; name: string; department: string }): Promise<Doctor> {
  const response = await request(base, 'POST', '/api/doctors', body);
  if (response.status !== 201 && response.status !== 200) throw new ScenarioError(`creating ${body.name}: ${describe(response)}`);
  return response.body.doctor as Doctor;
}

async function createSlot(base: string, body: { doctorId: string; start: string; end: string; capacity: number }): Promise<Slot> {
  const response = await request(base, 'POST', '/api/slots', body);
  if (response.status === 201) return response.body.slot as Slot;
  if (response.status === 202 && response.body?.slot?.id) {
    // Accepted but not yet decided: the slot appears once the allocator has created it.
    const id: string = response.body.slot.id;
    const found = await eventually(() => request(base, 'GET', `/api/slots/${id}`), (r) => r.status === 200, PENDING_TIMEOUT_MS, 200);
    if (found.status === 200) return found.body.slot as Slot;
    throw new ScenarioError(`slot ${id} for ${body.doctorId} was accepted (202) but never appeared: ${describe(found)}`);
  }
  throw new ScenarioError(`creating a slot for ${body.doctorId}: ${describe(response)}`);
}

interface BookOutcome {
  /** 201 once decided (a 202 that resolves to a token is reported as 201). */
  status: number;
  token?: Token;
  raw: JsonResponse;
}

async function book(base: string, body: { slotId: string; source: Source; patient: Patient }): Promise<BookOutcome> {
  const response = await request(base, 'POST', '/api/tokens/book', body);
  if (response.status === 201) return { status: 201, token: response.body.token as Token, raw: response };
  if (response.status === 202 && response.body?.token?.id) {
    // The allocator has not answered yet; the request is never dropped, so follow the token.
    const id: string = response.body.token.id;
    const settled = await eventually(
      () => request(base, 'GET', `/api/tokens/${id}`),
      (r) => r.status === 200 && r.body.token.status !== 'PENDING',
      PENDING_TIMEOUT_MS,
      200,
    );
    if (settled.status === 200 && settled.body.token.status !== 'PENDING') return { status: 201, token: settled.body.token as Token, raw: settled };
    return { status: 202, raw: settled };
  }
  return { status: response.status, raw: response };
}

/** Polls the view until it shows every id in `ids` and `activeCount` live tokens. */
async function waitForView(base: string, slotId: string, ids: string[], activeCount: number): Promise<SlotView> {
  const response = await eventually(
    () => request<SlotView>(base, 'GET', `/api/tokens/view/${slotId}`),
    (r) => r.status === 200 && ids.every((id) => containsToken(r.body, id)) && r.body.slot.activeCount === activeCount,
    VIEW_TIMEOUT_MS,
  );
  if (response.status !== 200) throw new ScenarioError(`view of slot ${slotId}: ${describe(response)}`);
  return response.body;
}
