/**
 * `npm run simulate -- --day` (issue 4): a discrete-event simulation of a full OPD day that drives
 * the REAL system through its HTTP API.
 *
 * The simulation has its own clock in simulated minutes (09:00 = 540). Events are processed one at
 * a time in (time, order of scheduling) order, and each one makes its HTTP calls and waits for the
 * answers before the next: the system's real clock only orders the requests, and no sleeping is
 * needed except while polling the eventually-consistent view. The day's slots are created
 * starting now with real lengths long enough for the run (booking stays open throughout).
 *
 * Every decision draws from one seeded PRNG in event order or follows from the API's answers
 * (who call-next calls, SLOT_FULL, the alternatives offered), so the same seed gives the same
 * statistics; ids, labels and real times are the system's and differ between runs.
 */
import { randomBytes } from 'node:crypto';
import type { Source } from '../seed-day';
import { DayApi, DayError, type DaySlotView, type DayToken } from './api';
import { createRng, type Rng } from '../rng';
import { computeStats, type DayStats, type Refusal, type TokenOutcome } from './stats';

// ---- Configuration ----

export type DoctorKey = 'smith' | 'jones' | 'taylor';

export interface DoctorSpec {
  key: DoctorKey;
  name: string;
  department: string;
  /** Places per slot. */
  capacity: number;
}

/** The three seed doctors (fixed): Smith 5 per slot, Jones 4, Taylor 6. */
export const DAY_DOCTORS: readonly DoctorSpec[] = [
  { key: 'smith', name: 'Dr. Smith', department: 'General Medicine', capacity: 5 },
  { key: 'jones', name: 'Dr. Jones', department: 'Cardiology', capacity: 4 },
  { key: 'taylor', name: 'Dr. Taylor', department: 'Orthopaedics', capacity: 6 },
];

export interface DayConfig {
  seed: number;
  /** Consecutive slots per doctor. */
  slotsPerDoctor: number;
  /** Simulated length of a slot, minutes. */
  slotMinutes: number;
  /** First slot's simulated start, minutes after midnight (540 = 09:00). The desk opens 30 min earlier. */
  dayStart: number;
  /** Real length of each created slot, minutes: the run must finish before the first slot ends. */
  realSlotMinutes: number;
  /** Multiplies every arrival rate and the share of pre-booked places (1 = a normal day). */
  demand: number;
  /** One doctor is called away mid-morning (PATCH /api/slots/{id}/delay). */
  withDelay: boolean;
  /** One later slot gets 2 more places (PATCH /api/slots/{id}/capacity). */
  withCapacityChange: boolean;
  /** How long to wait for the view to show a change before counting a lag. */
  viewTimeoutMs: number;
  doctors: readonly DoctorSpec[];
}

export const DEFAULT_DAY_CONFIG: DayConfig = {
  seed: 42,
  slotsPerDoctor: 4,
  slotMinutes: 60,
  dayStart: 9 * 60,
  realSlotMinutes: 30,
  demand: 1,
  withDelay: true,
  withCapacityChange: true,
  viewTimeoutMs: 10_000,
  doctors: DAY_DOCTORS,
};

/** The day's patient mix and behaviour (per doctor; rates scale with the doctor's capacity). */
const MIX = {
  /** Share of each slot's places booked before the day (online / follow-up), uniform in this range. */
  prebookedShare: [0.4, 0.75] as const,
  followUpShare: 0.35,
  /** Expected requests per place of the day's capacity, by source, during the day. */
  walkInsPerPlace: 0.35,
  paidPerPlace: 0.12,
  sameDayOnlinePerPlace: 0.1,
  emergenciesPerPlace: 0.06,
  /** Pre-booked patients: cancel before the day's slot, never come, arrive around the slot start. */
  cancelChance: 0.08,
  noShowChance: 0.1,
  arrivalOffset: [-15, 35] as const,
  /** At-the-desk patients (walk-in, paid) who leave if not called within their patience. */
  renegeChance: 0.12,
  patience: [40, 100] as const,
  /** Mean consultation = slot length / capacity * this; log-normal with this spread. */
  consultLoad: 0.85,
  consultCv: 0.4,
  consultFactor: { EMERGENCY: 1.6, PAID_PRIORITY: 1, FOLLOW_UP: 0.7, ONLINE: 1, WALK_IN: 1 } as Record<Source, number>,
  /** A called patient who is not at the door is called again (PATCH recall) two minutes later. */
  recallChance: 0.06,
  /** Minutes after a slot's end when the desk marks its never-arrived patients as no-shows. */
  noShowGrace: 20,
  delayMinutes: [20, 40] as const,
  capacityIncrease: 2,
};

// ---- Results ----

export interface SimToken extends TokenOutcome {
  id: string;
  label: string;
  number: number;
  doctor: DoctorKey;
  slotIndex: number;
  patient: string;
  /** Simulated minutes. */
  bookedAt: number;
  completedAt: number | null;
  endedAt: number | null;
  recalls: number;
}

export interface QueueSample {
  /** Simulated minutes. */
  t: number;
  /** Tokens in the doctor's queues (views: BOOKED + CHECKED_IN, every slot of the day). */
  queue: number;
  /** Of those, patients at the desk (CHECKED_IN). */
  present: number;
  /** With the doctor (CALLED). */
  serving: number;
}

export type DayMarker =
  | { kind: 'emergency'; doctor: DoctorKey; t: number; overCapacity: boolean; label: string }
  | { kind: 'delay'; doctor: DoctorKey; t: number; minutes: number; resumesAt: number }
  | { kind: 'capacity'; doctor: DoctorKey; t: number; slotIndex: number; from: number; to: number };

export interface DaySlotInfo {
  index: number;
  id: string;
  simStart: number;
  simEnd: number;
  capacity: number;
  delayMinutes: number;
  /** Most capacity-holding tokens seen at once (activeCount), and of them non-emergencies. */
  maxActive: number;
  maxNonEmergencyActive: number;
}

export interface DayDoctorInfo {
  key: DoctorKey;
  name: string;
  doctorId: string;
  capacity: number;
  slots: DaySlotInfo[];
}

export interface DayCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DayResult {
  config: DayConfig;
  runId: string;
  doctors: DayDoctorInfo[];
  tokens: SimToken[];
  refusals: Refusal[];
  stats: DayStats;
  series: Record<DoctorKey, QueueSample[]>;
  markers: DayMarker[];
  /** Checks made against the system's views while the day ran. */
  checks: DayCheck[];
  /** Answers the simulation did not expect (each one also fails a check). */
  anomalies: string[];
  /** Simulated minutes: desk opening and the last event. */
  simStart: number;
  simEnd: number;
  events: number;
  requests: number;
  realMs: number;
}

export type DayLog = (line: string, kind: 'notable' | 'event') => void;

// ---- The simulation ----

type SimEvent =
  | { kind: 'prebook'; doctor: DoctorKey; slotIndex: number }
  | { kind: 'request'; doctor: DoctorKey; source: Source }
  | { kind: 'arrive'; tokenId: string }
  | { kind: 'cancel'; tokenId: string }
  | { kind: 'renege'; tokenId: string }
  | { kind: 'slot-start'; doctor: DoctorKey; slotIndex: number }
  | { kind: 'doctor-free'; doctor: DoctorKey }
  | { kind: 'recall'; doctor: DoctorKey; tokenId: string }
  | { kind: 'complete'; doctor: DoctorKey; tokenId: string }
  | { kind: 'no-show-sweep'; doctor: DoctorKey; slotIndex: number }
  | { kind: 'delay'; doctor: DoctorKey; minutes: number }
  | { kind: 'capacity'; doctor: DoctorKey; slotIndex: number };

interface Scheduled {
  t: number;
  seq: number;
  event: SimEvent;
}

interface SlotModel extends DaySlotInfo {
  tokenIds: string[];
  view: DaySlotView | null;
}

interface DoctorModel {
  spec: DoctorSpec;
  doctorId: string;
  slots: SlotModel[];
  /** The token with the doctor, or null. */
  busyWith: string | null;
  /** A doctor-free event is pending. */
  wakePending: boolean;
  pausedUntil: number;
  /** A delay announced during a consultation starts when it ends. */
  pendingBreak: number;
}

const LIVE = new Set(['BOOKED', 'CHECKED_IN', 'CALLED', 'WAITLISTED']);
const HOLDING = new Set(['BOOKED', 'CHECKED_IN', 'CALLED', 'COMPLETED']);

const FIRST_NAMES = ['Aarav', 'Ananya', 'Arjun', 'Diya', 'Ishaan', 'Kavya', 'Meera', 'Neha', 'Omar', 'Priya', 'Rahul', 'Riya', 'Sanjay', 'Sara', 'Tara', 'Vikram', 'Zoya', 'Amit', 'Lakshmi', 'Farah'];
const LAST_NAMES = ['Sharma', 'Iyer', 'Khan', 'Patel', 'Reddy', 'Das', 'Menon', 'Gupta', 'Singh', 'Nair', 'Bose', 'Joshi', 'Rao', 'Kapoor', 'Fernandes'];

/** "09:37" for a simulated minute of the day. */
export function clock(t: number): string {
  const m = Math.round(t);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export async function runDaySimulation(baseUrl: string, overrides: Partial<DayConfig> = {}, log: DayLog = () => undefined): Promise<DayResult> {
  const config: DayConfig = { ...DEFAULT_DAY_CONFIG, ...overrides };
  const sim = new DaySimulation(new DayApi(baseUrl), config, log);
  return sim.run();
}

class DaySimulation {
  private readonly rng: Rng;
  private readonly runId = randomBytes(3).toString('hex');
  private readonly agenda: Scheduled[] = [];
  private seq = 0;
  private now: number;
  private readonly deskOpens: number;
  private readonly dayEnd: number;
  private readonly doctors = new Map<DoctorKey, DoctorModel>();
  private readonly tokens = new Map<string, SimToken>();
  private readonly refusals: Refusal[] = [];
  private readonly series = {} as Record<DoctorKey, QueueSample[]>;
  private readonly markers: DayMarker[] = [];
  private readonly anomalies: string[] = [];
  private readonly viewProblems: string[] = [];
  private viewLags = 0;
  private viewsChecked = 0;
  private patients = 0;
  private events = 0;
  /** Slots changed by the current event, to re-read once it is done. */
  private readonly touched = new Set<SlotModel>();

  constructor(
    private readonly api: DayApi,
    private readonly config: DayConfig,
    private readonly log: DayLog,
  ) {
    this.rng = createRng(config.seed);
    this.deskOpens = config.dayStart - 30;
    this.dayEnd = config.dayStart + config.slotsPerDoctor * config.slotMinutes;
    this.now = this.deskOpens;
  }

  async run(): Promise<DayResult> {
    const started = Date.now();
    await this.setup();
    this.plan();
    while (this.agenda.length > 0) {
      const next = this.agenda.shift() as Scheduled;
      this.now = next.t;
      this.events += 1;
      await this.handle(next.event);
      await this.observe();
    }
    return this.result(Date.now() - started);
  }

  // ---- Setup: doctors and their slots, starting now ----

  private async setup(): Promise<void> {
    const { config } = this;
    const realStart = Date.now();
    const realSlotMs = config.realSlotMinutes * 60_000;
    for (const spec of config.doctors) {
      const doctor = await this.api.createDoctor({ id: `${spec.key}-day-${this.runId}`, branchId: 'main', name: spec.name, department: spec.department });
      const slots: SlotModel[] = [];
      for (let index = 0; index < config.slotsPerDoctor; index++) {
        const start = new Date(realStart + index * realSlotMs);
        const slot = await this.api.createSlot({
          doctorId: doctor.id,
          start: start.toISOString(),
          end: new Date(start.getTime() + realSlotMs).toISOString(),
          capacity: spec.capacity,
        });
        const simStart = config.dayStart + index * config.slotMinutes;
        slots.push({
          index,
          id: slot.id,
          simStart,
          simEnd: simStart + config.slotMinutes,
          capacity: slot.capacity,
          delayMinutes: slot.delayMinutes ?? 0,
          maxActive: 0,
          maxNonEmergencyActive: 0,
          tokenIds: [],
          view: null,
        });
      }
      this.doctors.set(spec.key, { spec, doctorId: doctor.id, slots, busyWith: null, wakePending: false, pausedUntil: 0, pendingBreak: 0 });
      this.series[spec.key] = [{ t: this.deskOpens, queue: 0, present: 0, serving: 0 }];
      const times = slots.map((s) => clock(s.simStart)).join(' ');
      this.log(`${spec.name.padEnd(10)} ${spec.department.padEnd(16)} capacity ${spec.capacity}/slot, slots at ${times} (doctor ${doctor.id})`, 'notable');
    }
  }

  // ---- The day's plan: drawn from the PRNG before the first event ----

  private plan(): void {
    const { config, rng } = this;
    const dayPlaces = (spec: DoctorSpec) => spec.capacity * config.slotsPerDoctor;
    for (const spec of config.doctors) {
      const doctor = this.doctor(spec.key);
      // Bookings made before the day, read in at the desk's opening.
      for (const slot of doctor.slots) {
        const [lo, hi] = MIX.prebookedShare;
        const share = Math.min(1, rng.uniform(lo, hi) * config.demand);
        const count = Math.min(spec.capacity, Math.round(spec.capacity * share));
        for (let i = 0; i < count; i++) this.schedule(this.deskOpens, { kind: 'prebook', doctor: spec.key, slotIndex: slot.index });
        this.schedule(slot.simStart, { kind: 'slot-start', doctor: spec.key, slotIndex: slot.index });
        this.schedule(slot.simEnd + MIX.noShowGrace, { kind: 'no-show-sweep', doctor: spec.key, slotIndex: slot.index });
      }
      // Requests during the day: Poisson arrivals per source.
      const streams: Array<[Source, number, number, number]> = [
        // source, expected count, window start, window end
        ['WALK_IN', MIX.walkInsPerPlace * dayPlaces(spec), config.dayStart - 20, this.dayEnd - 30],
        ['PAID_PRIORITY', MIX.paidPerPlace * dayPlaces(spec), config.dayStart, this.dayEnd - 30],
        ['ONLINE', MIX.sameDayOnlinePerPlace * dayPlaces(spec), this.deskOpens, this.dayEnd - 90],
        ['EMERGENCY', MIX.emergenciesPerPlace * dayPlaces(spec), config.dayStart, this.dayEnd - 10],
      ];
      for (const [source, expected, from, to] of streams) {
        if (to <= from) continue;
        const gap = (to - from) / (expected * config.demand);
        for (let t = from + rng.exponential(gap); t < to; t += rng.exponential(gap)) {
          this.schedule(t, { kind: 'request', doctor: spec.key, source });
        }
      }
    }
    const keys = config.doctors.map((d) => d.key);
    const firstMorning = config.dayStart + 0.25 * config.slotMinutes;
    const lastMorning = Math.max(firstMorning + 1, this.dayEnd - 0.75 * config.slotMinutes);
    let delayed: DoctorKey | null = null;
    if (config.withDelay && keys.length > 0) {
      delayed = rng.pick(keys);
      const [lo, hi] = MIX.delayMinutes;
      this.schedule(rng.uniform(firstMorning, lastMorning), { kind: 'delay', doctor: delayed, minutes: Math.round(rng.uniform(lo, hi)) });
    }
    if (config.withCapacityChange && keys.length > 0) {
      const others = keys.filter((k) => k !== delayed);
      const doctor = rng.pick(others.length ? others : keys);
      const slotIndex = config.slotsPerDoctor - 1;
      const slotStart = config.dayStart + slotIndex * config.slotMinutes;
      const at = slotIndex === 0 ? this.deskOpens + 5 : rng.uniform(config.dayStart, slotStart - 15);
      this.schedule(at, { kind: 'capacity', doctor, slotIndex });
    }
  }

  private schedule(t: number, event: SimEvent): void {
    const item: Scheduled = { t, seq: this.seq++, event };
    // Sorted insert by (t, seq): equal times keep the order of scheduling.
    let i = this.agenda.length;
    while (i > 0 && this.agenda[i - 1].t > t) i--;
    this.agenda.splice(i, 0, item);
  }

  // ---- Events ----

  private async handle(event: SimEvent): Promise<void> {
    switch (event.kind) {
      case 'prebook':
        return this.prebook(event.doctor, event.slotIndex);
      case 'request':
        return this.request(event.doctor, event.source);
      case 'arrive':
        return this.arrive(event.tokenId);
      case 'cancel':
        return this.cancel(event.tokenId, 'patient cancelled', 'cancelled');
      case 'renege':
        return this.cancel(event.tokenId, 'left without being seen', 'left without being seen');
      case 'slot-start':
        return this.wake(event.doctor);
      case 'doctor-free':
        return this.doctorFree(event.doctor);
      case 'recall':
        return this.recall(event.doctor, event.tokenId);
      case 'complete':
        return this.complete(event.doctor, event.tokenId);
      case 'no-show-sweep':
        return this.noShowSweep(event.doctor, event.slotIndex);
      case 'delay':
        return this.delay(event.doctor, event.minutes);
      case 'capacity':
        return this.capacity(event.doctor, event.slotIndex);
    }
  }

  /** A booking made before the day (online or follow-up); its patient's fate is drawn now. */
  private async prebook(key: DoctorKey, slotIndex: number): Promise<void> {
    const { rng } = this;
    const source: Source = rng.chance(MIX.followUpShare) ? 'FOLLOW_UP' : 'ONLINE';
    const token = await this.bookWithAlternatives(key, slotIndex, source);
    if (token) this.planPrebooked(token);
  }

  /** A pre-booked patient cancels, never comes, or arrives around the slot's start. */
  private planPrebooked(token: SimToken): void {
    const { rng } = this;
    const slot = this.doctor(token.doctor).slots[token.slotIndex];
    const fate = rng.next();
    if (fate < MIX.cancelChance) {
      const latest = Math.max(this.now + 1, slot.simStart - 10);
      this.schedule(rng.uniform(this.now + 1, latest), { kind: 'cancel', tokenId: token.id });
    } else if (fate >= MIX.cancelChance + MIX.noShowChance) {
      const [lo, hi] = MIX.arrivalOffset;
      this.schedule(Math.max(this.now + 1, slot.simStart + rng.uniform(lo, hi)), { kind: 'arrive', tokenId: token.id });
    }
    // Otherwise a no-show: the desk marks it after the slot (no-show-sweep).
  }

  /** A request during the day: walk-in, paid priority, same-day online booking or emergency. */
  private async request(key: DoctorKey, source: Source): Promise<void> {
    const doctor = this.doctor(key);
    if (source === 'ONLINE') {
      // Same-day online: the first slot starting at least 45 minutes from now.
      const slot = doctor.slots.find((s) => s.simStart >= this.now + 45);
      if (!slot) return;
      const token = await this.bookWithAlternatives(key, slot.index, source);
      if (token) this.planPrebooked(token);
      return;
    }
    const current = this.currentSlot(doctor);
    if (!current) return;
    const token = await this.bookWithAlternatives(key, current.index, source);
    if (!token) return;
    if (source === 'PAID_PRIORITY') {
      // Paid at the desk: booked, then checked in at once.
      await this.transition(token, 'check-in', 'CHECKED_IN');
    }
    // Told to come back for a later slot: waiting starts then.
    token.arrivalAt = Math.max(this.now, doctor.slots[token.slotIndex].simStart);
    if (source === 'EMERGENCY') {
      const slot = doctor.slots[token.slotIndex];
      this.markers.push({ kind: 'emergency', doctor: key, t: this.now, overCapacity: token.overCapacity, label: token.label });
      this.note(
        `${doctor.spec.name}: EMERGENCY ${token.label} (${token.patient}) accepted at position ${this.lastPosition ?? '?'}` +
          (token.overCapacity ? `, over capacity (slot ${clock(slot.simStart)} was full)` : ''),
      );
    }
    if ((source === 'WALK_IN' || source === 'PAID_PRIORITY') && this.rng.chance(MIX.renegeChance)) {
      const [lo, hi] = MIX.patience;
      this.schedule((token.arrivalAt ?? this.now) + this.rng.uniform(lo, hi), { kind: 'renege', tokenId: token.id });
    }
    this.wake(key);
  }

  private lastPosition: number | null = null;

  /**
   * Books into the slot; on SLOT_FULL tries the later slots the system offers as alternatives,
   * in its order. Returns null when refused everywhere.
   */
  private async bookWithAlternatives(key: DoctorKey, slotIndex: number, source: Source): Promise<SimToken | null> {
    const doctor = this.doctor(key);
    const patient = this.newPatient(source);
    let slot = doctor.slots[slotIndex];
    for (let attempt = 0; attempt < 4; attempt++) {
      const answer = await this.api.book({ slotId: slot.id, source, patient });
      if (answer.status === 201 && answer.token) {
        const token = this.record(key, slot, answer.token, attempt > 0);
        this.lastPosition = answer.token.position;
        this.event(`${doctor.spec.name}: ${source} ${patient.name} -> ${token.label} in ${clock(slot.simStart)}, ${token.status}, position ${answer.token.position}${token.overCapacity ? ', over capacity' : ''}`);
        return token;
      }
      if (answer.status === 409 && answer.code === 'SLOT_FULL') {
        if (source === 'EMERGENCY') this.anomaly(`${doctor.spec.name}: an emergency was refused with SLOT_FULL`);
        const next = answer.alternatives.map((a) => doctor.slots.find((s) => s.id === a.slotId)).find((s) => s !== undefined);
        if (next) {
          this.event(`${doctor.spec.name}: ${source} ${patient.name}: ${clock(slot.simStart)} full, offered ${clock(next.simStart)}`);
          slot = next;
          continue;
        }
        break;
      }
      this.anomaly(`${doctor.spec.name}: booking ${source} in ${clock(slot.simStart)} answered ${answer.status} ${answer.code ?? ''}`);
      return null;
    }
    this.refusals.push({ doctor: key, source, at: this.now });
    this.event(`${doctor.spec.name}: ${source} ${patient.name} refused: no slot with room`);
    return null;
  }

  private record(key: DoctorKey, slot: SlotModel, api: DayToken, redirected: boolean): SimToken {
    const token: SimToken = {
      id: api.id,
      label: api.label ?? `#${api.number}`,
      number: api.number,
      doctor: key,
      slotIndex: slot.index,
      source: api.source,
      status: api.status,
      overCapacity: api.overCapacity,
      redirected,
      patient: api.patient.name,
      bookedAt: this.now,
      arrivalAt: null,
      calledAt: null,
      completedAt: null,
      endedAt: null,
      recalls: 0,
    };
    this.tokens.set(token.id, token);
    slot.tokenIds.push(token.id);
    this.touched.add(slot);
    return token;
  }

  private async arrive(tokenId: string): Promise<void> {
    const token = this.token(tokenId);
    if (token.status !== 'BOOKED') return;
    if (await this.transition(token, 'check-in', 'CHECKED_IN')) {
      token.arrivalAt = this.now;
      this.event(`${this.doctor(token.doctor).spec.name}: ${token.label} ${token.source} ${token.patient} arrives, checked in`);
      this.wake(token.doctor);
    }
  }

  private async cancel(tokenId: string, reason: string, what: string): Promise<void> {
    const token = this.token(tokenId);
    // Only patients not yet with the doctor cancel or leave.
    if (token.status !== 'BOOKED' && token.status !== 'CHECKED_IN' && token.status !== 'WAITLISTED') return;
    if (await this.transition(token, 'cancel', 'CANCELLED', { reason })) {
      token.endedAt = this.now;
      this.event(`${this.doctor(token.doctor).spec.name}: ${token.label} ${token.source} ${what}`);
    }
  }

  /** The desk marks the slot's patients who never came as no-shows. */
  private async noShowSweep(key: DoctorKey, slotIndex: number): Promise<void> {
    const slot = this.doctor(key).slots[slotIndex];
    for (const id of slot.tokenIds) {
      const token = this.token(id);
      if (token.status !== 'BOOKED') continue;
      if (await this.transition(token, 'no-show', 'NO_SHOW')) {
        token.endedAt = this.now;
        this.event(`${this.doctor(key).spec.name}: ${token.label} ${token.source} marked no-show`);
      }
    }
  }

  // ---- The doctor ----

  /** The slot whose window holds `now` (the first before the day starts); null after the day. */
  private currentSlot(doctor: DoctorModel): SlotModel | null {
    if (this.now >= this.dayEnd) return null;
    return doctor.slots.find((s) => this.now < s.simEnd) ?? null;
  }

  private wake(key: DoctorKey): void {
    const doctor = this.doctor(key);
    if (doctor.busyWith !== null || doctor.wakePending) return;
    doctor.wakePending = true;
    this.schedule(Math.max(this.now, doctor.pausedUntil), { kind: 'doctor-free', doctor: key });
  }

  /** The doctor calls the next patient: an emergency first, else from the earliest started slot with someone present. */
  private async doctorFree(key: DoctorKey): Promise<void> {
    const doctor = this.doctor(key);
    doctor.wakePending = false;
    if (doctor.busyWith !== null) return;
    if (this.now < doctor.pausedUntil) {
      this.wake(key);
      return;
    }
    const presentIn = (slot: SlotModel) => slot.tokenIds.map((id) => this.token(id)).filter((t) => t.status === 'CHECKED_IN');
    const started = doctor.slots.filter((s) => s.simStart <= this.now && presentIn(s).length > 0);
    // Emergencies are seen next whatever their slot; otherwise the earliest slot goes first.
    const candidates = [...started.filter((s) => presentIn(s).some((t) => t.source === 'EMERGENCY')), ...started];
    for (const slot of candidates) {
      const present = presentIn(slot);
      if (present.length === 0) continue;
      const known = new Set(slot.tokenIds.filter((id) => this.token(id).status !== 'CHECKED_IN' && this.token(id).status !== 'BOOKED'));
      const answer = await this.api.callNext(slot.id, known);
      this.touched.add(slot);
      if (answer.status !== 200 || !answer.token) {
        this.anomaly(`${doctor.spec.name}: call-next in ${clock(slot.simStart)} answered ${answer.status} ${answer.code ?? ''} with ${present.length} present`);
        continue;
      }
      const token = this.tokens.get(answer.token.id);
      if (!token) {
        this.anomaly(`${doctor.spec.name}: call-next called a token the simulation never booked (${answer.token.id})`);
        continue;
      }
      const best = [...present].sort((a, b) => weightOf(a.source) - weightOf(b.source))[0];
      if (weightOf(token.source) !== weightOf(best.source)) {
        this.anomaly(`${doctor.spec.name}: call-next called ${token.label} (${token.source}) while ${best.label} (${best.source}) was present`);
      }
      token.status = answer.token.status;
      token.calledAt = this.now;
      doctor.busyWith = token.id;
      this.event(`${doctor.spec.name}: calls ${token.label} ${token.source} ${token.patient} (waited ${Math.round(this.now - (token.arrivalAt ?? this.now))} min)`);
      if (this.rng.chance(MIX.recallChance)) {
        this.schedule(this.now + 2, { kind: 'recall', doctor: key, tokenId: token.id });
      } else {
        this.schedule(this.now + this.consultation(doctor, token.source), { kind: 'complete', doctor: key, tokenId: token.id });
      }
      return;
    }
    // Nobody present in a started slot: idle until someone checks in or the next slot starts.
  }

  private async recall(key: DoctorKey, tokenId: string): Promise<void> {
    const token = this.token(tokenId);
    const answer = await this.api.transition(tokenId, 'recall', 'CALLED');
    this.touched.add(this.slotOf(token));
    if (answer.status !== 200) this.anomaly(`${token.label}: recall answered ${answer.status} ${answer.code ?? ''}`);
    token.recalls += 1;
    this.event(`${this.doctor(key).spec.name}: calls ${token.label} again (recall)`);
    this.schedule(this.now + 1 + this.consultation(this.doctor(key), token.source), { kind: 'complete', doctor: key, tokenId });
  }

  private async complete(key: DoctorKey, tokenId: string): Promise<void> {
    const doctor = this.doctor(key);
    const token = this.token(tokenId);
    if (await this.transition(token, 'complete', 'COMPLETED')) {
      token.completedAt = this.now;
      this.event(`${doctor.spec.name}: ${token.label} done (${Math.round(this.now - (token.calledAt ?? this.now))} min with the doctor)`);
    }
    doctor.busyWith = null;
    if (doctor.pendingBreak > 0) {
      doctor.pausedUntil = this.now + doctor.pendingBreak;
      doctor.pendingBreak = 0;
    }
    this.wake(key);
  }

  private consultation(doctor: DoctorModel, source: Source): number {
    const mean = (this.config.slotMinutes / doctor.spec.capacity) * MIX.consultLoad * MIX.consultFactor[source];
    return Math.min(3 * mean, Math.max(2, this.rng.logNormal(mean, MIX.consultCv)));
  }

  /** The doctor is called away: every slot not yet over runs late by `minutes`. */
  private async delay(key: DoctorKey, minutes: number): Promise<void> {
    const doctor = this.doctor(key);
    const slots = doctor.slots.filter((s) => s.simEnd > this.now);
    for (const slot of slots) {
      const answer = await this.api.slotAdmin(slot.id, 'delay', { minutes });
      if (answer.status !== 200 && answer.status !== 202) {
        this.anomaly(`${doctor.spec.name}: delay of ${clock(slot.simStart)} answered ${answer.status} ${answer.code ?? ''}`);
        continue;
      }
      slot.delayMinutes += minutes;
      this.touched.add(slot);
    }
    const resumesAt = (doctor.busyWith !== null ? this.consultEnd(doctor) : this.now) + minutes;
    if (doctor.busyWith !== null) doctor.pendingBreak = minutes;
    else doctor.pausedUntil = this.now + minutes;
    this.markers.push({ kind: 'delay', doctor: key, t: this.now, minutes, resumesAt });
    this.note(`${doctor.spec.name} is called away: running ${minutes} min late (PATCH delay on ${slots.length} slot${slots.length === 1 ? '' : 's'})`);
  }

  private consultEnd(doctor: DoctorModel): number {
    const done = this.agenda.find((s) => (s.event.kind === 'complete' || s.event.kind === 'recall') && s.event.tokenId === doctor.busyWith);
    return done ? done.t : this.now;
  }

  /** A later slot gets more places (an extra junior doctor, say). */
  private async capacity(key: DoctorKey, slotIndex: number): Promise<void> {
    const doctor = this.doctor(key);
    const slot = doctor.slots[slotIndex];
    const to = slot.capacity + MIX.capacityIncrease;
    const answer = await this.api.slotAdmin(slot.id, 'capacity', { capacity: to });
    if (answer.status !== 200 && answer.status !== 202) {
      this.anomaly(`${doctor.spec.name}: capacity of ${clock(slot.simStart)} answered ${answer.status} ${answer.code ?? ''}`);
      return;
    }
    for (const promoted of answer.promoted) this.applyStatus(promoted);
    this.markers.push({ kind: 'capacity', doctor: key, t: this.now, slotIndex, from: slot.capacity, to });
    this.note(`${doctor.spec.name}: slot ${clock(slot.simStart)} capacity ${slot.capacity} -> ${to} (PATCH capacity)`);
    slot.capacity = to;
    this.touched.add(slot);
  }

  // ---- Token transitions, always taking the system's answer ----

  private async transition(token: SimToken, action: 'check-in' | 'complete' | 'no-show' | 'cancel', expected: string, body?: unknown): Promise<boolean> {
    const answer = await this.api.transition(token.id, action, expected, body);
    this.touched.add(this.slotOf(token));
    if (answer.status !== 200 || !answer.token) {
      this.anomaly(`${token.label}: ${action} from ${token.status} answered ${answer.status} ${answer.code ?? ''}`);
      return false;
    }
    token.status = answer.token.status;
    if (answer.promoted) this.applyStatus(answer.promoted);
    if (token.status !== expected) this.anomaly(`${token.label}: ${action} left it ${token.status}, expected ${expected}`);
    return token.status === expected;
  }

  private applyStatus(api: DayToken): void {
    const token = this.tokens.get(api.id);
    if (token) token.status = api.status;
  }

  // ---- Observing the system: the views after every event ----

  /** Waits until the view of every slot the event changed shows the simulation's model, then samples the queues. */
  private async observe(): Promise<void> {
    if (this.touched.size === 0) return;
    const doctors = new Set<DoctorKey>();
    for (const slot of this.touched) {
      await this.syncView(slot);
      doctors.add(this.doctorOfSlot(slot));
    }
    this.touched.clear();
    for (const key of doctors) {
      const doctor = this.doctor(key);
      const sample: QueueSample = { t: this.now, queue: 0, present: 0, serving: 0 };
      for (const slot of doctor.slots) {
        if (!slot.view) continue;
        sample.queue += slot.view.queue.length;
        sample.present += slot.view.queue.filter((t) => t.status === 'CHECKED_IN').length;
        sample.serving += slot.view.nowServing.length;
      }
      const series = this.series[key];
      const last = series[series.length - 1];
      // Several samples at the same minute: the last one stands.
      if (last.t === sample.t && series.length > 1) series[series.length - 1] = sample;
      else series.push(sample);
    }
  }

  private async syncView(slot: SlotModel): Promise<void> {
    const deadline = Date.now() + this.config.viewTimeoutMs;
    let view: DaySlotView | null = null;
    for (;;) {
      const response = await this.api.view(slot.id);
      if (response.status === 200) {
        view = response.body;
        if (this.viewMatches(slot, view)) break;
      }
      if (Date.now() >= deadline) {
        this.viewLags += 1;
        this.viewProblems.push(`view of ${this.doctor(this.doctorOfSlot(slot)).spec.name} ${clock(slot.simStart)} did not show the change within ${this.config.viewTimeoutMs} ms`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    if (!view) return;
    slot.view = view;
    this.viewsChecked += 1;
    // Elastic capacity for emergencies only: the non-emergency holders never exceed the capacity.
    const emergencyHolders = slot.tokenIds.map((id) => this.token(id)).filter((t) => t.source === 'EMERGENCY' && HOLDING.has(t.status)).length;
    const nonEmergency = view.slot.activeCount - emergencyHolders;
    slot.maxActive = Math.max(slot.maxActive, view.slot.activeCount);
    slot.maxNonEmergencyActive = Math.max(slot.maxNonEmergencyActive, nonEmergency);
    const where = `${this.doctor(this.doctorOfSlot(slot)).spec.name} ${clock(slot.simStart)} at ${clock(this.now)}`;
    if (nonEmergency > view.slot.capacity) this.viewProblems.push(`${where}: ${nonEmergency} non-emergency tokens hold places of ${view.slot.capacity}`);
    if (!view.queue.every((t, i) => t.position === i + 1)) this.viewProblems.push(`${where}: queue positions are not 1..n`);
    if (!view.queue.every((t, i) => i === 0 || view.queue[i - 1].weight <= t.weight)) this.viewProblems.push(`${where}: queue not ordered by weight`);
  }

  /** The view shows exactly the model's live tokens with their statuses, and the slot's capacity and delay. */
  private viewMatches(slot: SlotModel, view: DaySlotView): boolean {
    if (view.slot.capacity !== slot.capacity || (view.slot.delayMinutes ?? 0) !== slot.delayMinutes) return false;
    const shown = new Map<string, string>();
    for (const t of [...view.nowServing, ...view.queue, ...view.waitlist]) shown.set(t.id, t.status);
    let live = 0;
    for (const id of slot.tokenIds) {
      const token = this.token(id);
      if (LIVE.has(token.status)) {
        live += 1;
        if (shown.get(id) !== token.status) return false;
      } else if (shown.has(id)) return false;
    }
    return shown.size === live;
  }

  // ---- Helpers ----

  private newPatient(source: Source): { name: string; phone: string; mrn?: string } {
    const n = ++this.patients;
    const name = `${this.rng.pick(FIRST_NAMES)} ${this.rng.pick(LAST_NAMES)}`;
    const phone = `+91 98${String(n).padStart(8, '0')}`;
    // Follow-ups are known patients: they come with their record number.
    return source === 'FOLLOW_UP' ? { name, phone, mrn: `MRN-${String(n).padStart(6, '0')}` } : { name, phone };
  }

  private doctor(key: DoctorKey): DoctorModel {
    return this.doctors.get(key) as DoctorModel;
  }

  private token(id: string): SimToken {
    return this.tokens.get(id) as SimToken;
  }

  private slotOf(token: SimToken): SlotModel {
    return this.doctor(token.doctor).slots[token.slotIndex];
  }

  private doctorOfSlot(slot: SlotModel): DoctorKey {
    for (const [key, doctor] of this.doctors) if (doctor.slots.includes(slot)) return key;
    throw new DayError(`slot ${slot.id} belongs to no doctor`);
  }

  private note(line: string): void {
    this.log(`${clock(this.now)}  ${line}`, 'notable');
  }

  private event(line: string): void {
    this.log(`${clock(this.now)}  ${line}`, 'event');
  }

  private anomaly(line: string): void {
    this.anomalies.push(`${clock(this.now)} ${line}`);
    this.log(`${clock(this.now)}  ! ${line}`, 'notable');
  }

  private result(realMs: number): DayResult {
    const tokens = [...this.tokens.values()];
    const keys = this.config.doctors.map((d) => d.key);
    const stats = computeStats(keys, tokens, this.refusals);
    const doctors: DayDoctorInfo[] = keys.map((key) => {
      const d = this.doctor(key);
      return {
        key,
        name: d.spec.name,
        doctorId: d.doctorId,
        capacity: d.spec.capacity,
        slots: d.slots.map(({ tokenIds: _ids, view: _view, ...info }) => info),
      };
    });
    const emergencies = tokens.filter((t) => t.source === 'EMERGENCY');
    const checks: DayCheck[] = [
      { name: 'every view showed each change', ok: this.viewLags === 0, detail: `${this.viewsChecked} views read, ${this.viewLags} lagged` },
      {
        name: 'queues held capacity, position and weight order',
        ok: this.viewProblems.length === 0,
        detail: this.viewProblems.length ? this.viewProblems.slice(0, 5).join('; ') : `${this.viewsChecked} views checked`,
      },
      { name: 'every answer was the expected one', ok: this.anomalies.length === 0, detail: this.anomalies.length ? this.anomalies.slice(0, 5).join('; ') : 'none unexpected' },
      {
        name: 'every emergency accepted',
        ok: !this.refusals.some((r) => r.source === 'EMERGENCY'),
        detail: `${emergencies.length} accepted, ${emergencies.filter((t) => t.overCapacity).length} over capacity`,
      },
      {
        name: 'served + no-shows + cancelled + waiting = booked',
        ok: [stats.total, ...Object.values(stats.byDoctor), ...Object.values(stats.bySource)].every(
          (s) => s.served + s.noShows + s.cancelled + s.waiting === s.booked,
        ),
        detail: `${stats.total.served} + ${stats.total.noShows} + ${stats.total.cancelled} + ${stats.total.waiting} of ${stats.total.booked}`,
      },
    ];
    const lastT = Math.max(this.now, ...Object.values(this.series).map((s) => s[s.length - 1].t));
    return {
      config: this.config,
      runId: this.runId,
      doctors,
      tokens,
      refusals: [...this.refusals],
      stats,
      series: this.series,
      markers: this.markers,
      checks,
      anomalies: [...this.anomalies],
      simStart: this.deskOpens,
      simEnd: lastT,
      events: this.events,
      requests: this.api.requests,
      realMs,
    };
  }
}

function weightOf(source: Source): number {
  return { EMERGENCY: 1, PAID_PRIORITY: 2, FOLLOW_UP: 3, ONLINE: 4, WALK_IN: 5 }[source];
}
