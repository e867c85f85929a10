/**
 * Unit tests of the issue-4 rules added after the day flow: per-source quotas (reservation,
 * release, emergency bypass, waitlist interplay, capacity changes), waiting estimates and the
 * consultation moving average, and the time zone of the daily label counter. Pure functions only.
 */
import fc from 'fast-check';
import { parseRequest } from '../http/validation';
import type { OnFull, Source } from '../schemas/common';
import { CreateSlotRequestSchema } from '../schemas/http';
import {
  CONSULTATION_EMA_ALPHA,
  applyCommand,
  calendarDay,
  capQuotas,
  createSlotState,
  hasRoomFor,
  isQuotaReserved,
  labelBaseFor,
  quotaProblems,
  recordConsultation,
  reservedAgainst,
  type ApplyResult,
} from './allocation';
import { CAPACITY_HOLDING, type DomainCommand, type SlotRecord, type SlotState, type SourceQuota, type TokenRecord } from './model';
import { activeCount, buildSlotView, consultationOf, defaultConsultationMinutes, estimatedTimes, seedConsultation, toPublicSlot } from './queue';

const START_MS = Date.parse('2025-03-03T09:00:00.000Z');
/** Minutes relative to the slot start (negative: before it). */
const at = (minute: number): string => new Date(START_MS + minute * 60_000).toISOString();
const minutesAfterStart = (iso: string) => (Date.parse(iso) - START_MS) / 60_000;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** A slot whose clock is set by the test (`minute`, relative to the start); states are frozen. */
class Desk {
  state: SlotState;
  minute: number;
  private seq = 0;

  constructor(capacity: number, options: { quotas?: SourceQuota[]; minute?: number; slot?: Partial<SlotRecord> } = {}) {
    this.minute = options.minute ?? -60;
    this.state = deepFreeze(
      createSlotState({
        id: 'slot-1',
        doctorId: 'doc-1',
        branchId: 'b',
        start: at(0),
        end: at(120),
        capacity,
        ...(options.quotas ? { quotas: options.quotas } : {}),
        ...options.slot,
      }),
    );
  }

  run(command: DomainCommand, advance = 0): ApplyResult {
    this.minute += advance;
    const result = applyCommand(this.state, command, { now: at(this.minute) });
    this.state = deepFreeze(result.state);
    return result;
  }

  tryBook(source: Source, onFull: OnFull = 'reject'): ApplyResult & { tokenId: string } {
    const tokenId = `t${++this.seq}`;
    return { ...this.run({ type: 'token.book', tokenId, source, patient: { name: tokenId, mrn: tokenId }, onFull }), tokenId };
  }

  book(source: Source, onFull: OnFull = 'reject'): string {
    const res = this.tryBook(source, onFull);
    if (!res.outcome.ok) throw new Error(`booking ${res.tokenId} failed: ${res.outcome.code}`);
    return res.tokenId;
  }

  token(id: string): TokenRecord {
    const t = this.state.tokens.find((x) => x.id === id);
    if (!t) throw new Error(`no token ${id}`);
    return t;
  }
}

const walkInQuota = (places = 2, releaseMinutesBeforeStart = 30): SourceQuota => ({ source: 'WALK_IN', places, releaseMinutesBeforeStart });

const codeOf = (res: ApplyResult) => (res.outcome.ok ? 'ok' : res.outcome.code);

// ---------------------------------------------------------------------------------------------
// Quotas
// ---------------------------------------------------------------------------------------------

describe('quota reservation', () => {
  it('capacity 10 with 2 WALK_IN places until 30 min before start: 8 ONLINE get in, the 9th is SLOT_FULL, a WALK_IN still gets in', () => {
    const desk = new Desk(10, { quotas: [walkInQuota()], minute: -60 });
    for (let i = 0; i < 8; i += 1) desk.book('ONLINE');
    const ninth = desk.tryBook('ONLINE');
    expect(ninth.outcome).toEqual({
      ok: false,
      code: 'SLOT_FULL',
      message: expect.stringContaining('2 reserved'),
      details: { slotId: 'slot-1', onFull: 'reject', reservedPlaces: 2 },
    });
    expect(desk.state.tokens).toHaveLength(8);

    const walkIn = desk.book('WALK_IN');
    expect(desk.token(walkIn).status).toBe('CHECKED_IN');
    // One reserved place is filled; the other is still held for walk-ins.
    expect(codeOf(desk.tryBook('PAID_PRIORITY'))).toBe('SLOT_FULL');
    desk.book('WALK_IN');
    expect(activeCount(desk.state.tokens)).toBe(10);
    // Full now: a third walk-in is refused like anyone.
    const third = desk.tryBook('WALK_IN');
    expect(third.outcome).toMatchObject({ ok: false, code: 'SLOT_FULL', details: { slotId: 'slot-1', onFull: 'reject' } });
  });

  it('is released at releaseMinutesBeforeStart before the planned start: a slot starting in 20 minutes has no reservation left', () => {
    const desk = new Desk(10, { quotas: [walkInQuota()], minute: -20 });
    for (let i = 0; i < 10; i += 1) desk.book('ONLINE');
    expect(activeCount(desk.state.tokens)).toBe(10);
  });

  it('the release moment itself is released; one millisecond before it is reserved', () => {
    const quota = walkInQuota(2, 30);
    const slot = { start: at(0) };
    expect(isQuotaReserved(quota, slot, new Date(START_MS - 30 * 60_000 - 1).toISOString())).toBe(true);
    expect(isQuotaReserved(quota, slot, at(-30))).toBe(false);
    expect(isQuotaReserved({ ...quota, releaseMinutesBeforeStart: 0 }, slot, at(-1))).toBe(true);
    expect(isQuotaReserved({ ...quota, releaseMinutesBeforeStart: 0 }, slot, at(0))).toBe(false);
  });

  it('a reservation made earlier lapses as the clock passes the release time', () => {
    const desk = new Desk(4, { quotas: [walkInQuota(2, 30)], minute: -45 });
    desk.book('ONLINE');
    desk.book('ONLINE');
    expect(codeOf(desk.tryBook('ONLINE'))).toBe('SLOT_FULL');
    desk.minute = -30;
    desk.book('ONLINE');
    desk.book('ONLINE');
    expect(activeCount(desk.state.tokens)).toBe(4);
  });

  it('the delay does not move the release: it is relative to the planned start', () => {
    const desk = new Desk(2, { quotas: [walkInQuota(1, 30)], minute: -40 });
    desk.run({ type: 'slot.delay', minutes: 60 });
    desk.book('ONLINE');
    expect(codeOf(desk.tryBook('ONLINE'))).toBe('SLOT_FULL');
    desk.minute = -25;
    expect(codeOf(desk.tryBook('ONLINE'))).toBe('ok');
  });

  it('a source fills its own reservation first; other sources only see what is still unfilled', () => {
    const quotas: SourceQuota[] = [walkInQuota(2, 30), { source: 'FOLLOW_UP', places: 3, releaseMinutesBeforeStart: 0 }];
    const desk = new Desk(6, { quotas, minute: -60 });
    // 5 reserved: one place for everyone else.
    expect(reservedAgainst(desk.state, 'ONLINE', at(-60))).toBe(5);
    expect(reservedAgainst(desk.state, 'WALK_IN', at(-60))).toBe(3);
    expect(reservedAgainst(desk.state, 'FOLLOW_UP', at(-60))).toBe(2);
    desk.book('PAID_PRIORITY');
    expect(codeOf(desk.tryBook('ONLINE'))).toBe('SLOT_FULL');
    // Follow-ups use their 3 places, walk-ins their 2.
    desk.book('FOLLOW_UP');
    desk.book('FOLLOW_UP');
    desk.book('WALK_IN');
    desk.book('FOLLOW_UP');
    expect(codeOf(desk.tryBook('FOLLOW_UP'))).toBe('SLOT_FULL'); // its own quota is full and 1 walk-in place is held
    desk.book('WALK_IN');
    expect(activeCount(desk.state.tokens)).toBe(6);
    // At -30 the walk-in reservation lapses; the follow-up one holds until the start.
    desk.minute = -10;
    expect(reservedAgainst(desk.state, 'ONLINE', at(-10))).toBe(0); // all filled
  });

  it('a cancelled or no-show token of the source unfills its reservation; COMPLETED keeps it filled', () => {
    const desk = new Desk(3, { quotas: [walkInQuota(1, 30)], minute: -60 });
    const walkIn = desk.book('WALK_IN');
    desk.book('ONLINE');
    desk.book('ONLINE');
    desk.run({ type: 'slot.call-next' });
    desk.run({ type: 'token.complete', tokenId: walkIn });
    desk.run({ type: 'token.cancel', tokenId: 't2' });
    // The walk-in place was used (COMPLETED holds capacity): the freed place is for anyone.
    expect(codeOf(desk.tryBook('ONLINE'))).toBe('ok');

    const other = new Desk(3, { quotas: [walkInQuota(1, 30)], minute: -60 });
    const w = other.book('WALK_IN');
    other.book('ONLINE');
    other.book('ONLINE');
    other.run({ type: 'token.no-show', tokenId: w });
    expect(codeOf(other.tryBook('ONLINE'))).toBe('SLOT_FULL');
    expect(codeOf(other.tryBook('WALK_IN'))).toBe('ok');
  });

  it('hasRoomFor: capacity - activeCount - 1 >= places reserved for the other sources', () => {
    const desk = new Desk(3, { quotas: [walkInQuota(2, 30)], minute: -60 });
    expect(hasRoomFor(desk.state, 'ONLINE', at(-60))).toBe(true);
    desk.book('ONLINE');
    expect(hasRoomFor(desk.state, 'ONLINE', at(-60))).toBe(false);
    expect(hasRoomFor(desk.state, 'WALK_IN', at(-60))).toBe(true);
    expect(hasRoomFor(desk.state, 'EMERGENCY', at(-60))).toBe(true);
    expect(hasRoomFor(desk.state, 'ONLINE', at(-30))).toBe(true);
  });

  it('a slot without quotas behaves as before (quotas [] or absent)', () => {
    for (const quotas of [undefined, []]) {
      const desk = new Desk(2, { ...(quotas ? { quotas } : {}), minute: -600 });
      desk.book('ONLINE');
      desk.book('WALK_IN');
      expect(desk.tryBook('ONLINE').outcome).toMatchObject({ code: 'SLOT_FULL', details: { slotId: 'slot-1', onFull: 'reject' } });
    }
  });
});

describe('quotas: emergency bypass', () => {
  it('an emergency ignores reservations: it takes a free (even reserved) place, and is over capacity only when the slot is full', () => {
    const desk = new Desk(3, { quotas: [walkInQuota(2, 30)], minute: -60 });
    desk.book('ONLINE');
    const e1 = desk.book('EMERGENCY');
    expect(desk.token(e1)).toMatchObject({ status: 'CHECKED_IN', overCapacity: false });
    // One place is left and a walk-in place is still unfilled: walk-ins may take it, others may not.
    expect(codeOf(desk.tryBook('PAID_PRIORITY'))).toBe('SLOT_FULL');
    desk.book('WALK_IN');
    const e2 = desk.book('EMERGENCY');
    expect(desk.token(e2)).toMatchObject({ status: 'CHECKED_IN', overCapacity: true });
  });

  it('EMERGENCY cannot have a quota (always accepted anyway)', () => {
    expect(quotaProblems(5, [{ source: 'EMERGENCY', places: 1 }])).toEqual([
      { path: [0, 'source'], message: expect.stringContaining('EMERGENCY') },
    ]);
  });
});

describe('quotas: waitlist interplay', () => {
  it('onFull waitlist: a booking shut out by a reservation is WAITLISTED while reserved places stay free', () => {
    const desk = new Desk(10, { quotas: [walkInQuota()], minute: -60 });
    for (let i = 0; i < 8; i += 1) desk.book('ONLINE');
    const waiting = desk.book('ONLINE', 'waitlist');
    expect(desk.token(waiting).status).toBe('WAITLISTED');
    expect(buildSlotView(desk.state).waitlist.map((t) => [t.id, t.position])).toEqual([[waiting, 1]]);
    expect(toPublicSlot(desk.state.slot, desk.state.tokens)).toMatchObject({ activeCount: 8, available: 2 });
  });

  it('a cancel frees a place for anyone: the waitlisted ONLINE token is promoted while the reservation still holds', () => {
    const desk = new Desk(10, { quotas: [walkInQuota()], minute: -60 });
    for (let i = 0; i < 8; i += 1) desk.book('ONLINE');
    const waiting = desk.book('ONLINE', 'waitlist');
    const res = desk.run({ type: 'token.cancel', tokenId: 't1' });
    expect(res.outcome).toMatchObject({ ok: true, promotedIds: [waiting] });
    expect(desk.token(waiting).status).toBe('BOOKED');
    expect(codeOf(desk.tryBook('ONLINE'))).toBe('SLOT_FULL');
  });

  it('promotion skips a token its quota rule shuts out for the best one it admits (a waitlisted walk-in takes the walk-in place)', () => {
    const desk = new Desk(3, { quotas: [walkInQuota(1, 30)], minute: -60 });
    desk.book('ONLINE');
    desk.book('ONLINE');
    const online = desk.book('ONLINE', 'waitlist');
    const w1 = desk.book('WALK_IN');
    const w2 = desk.book('WALK_IN', 'waitlist');
    expect([desk.token(online).status, desk.token(w2).status]).toEqual(['WAITLISTED', 'WAITLISTED']);
    const res = desk.run({ type: 'token.cancel', tokenId: w1 });
    // ONLINE (weight 4) is ahead of WALK_IN (5) in the waitlist, but the one free place is held for walk-ins.
    expect(res.outcome).toMatchObject({ ok: true, promotedIds: [w2] });
    expect(desk.token(online).status).toBe('WAITLISTED');
  });

  it('after the release, the next booking first promotes the waitlist (in its order), then is decided', () => {
    const desk = new Desk(3, { quotas: [walkInQuota(1, 30)], minute: -60 });
    desk.book('ONLINE');
    desk.book('ONLINE');
    const waiting = desk.book('ONLINE', 'waitlist');
    desk.minute = -10;
    const version = desk.state.slot.version;
    const late = desk.tryBook('ONLINE');
    expect(late.outcome).toMatchObject({ ok: false, code: 'SLOT_FULL' });
    // The refusal still carries the promotion: the waitlisted token got the released place.
    expect(late.changedTokenIds).toEqual([waiting]);
    expect(desk.token(waiting).status).toBe('BOOKED');
    expect(desk.state.slot.version).toBe(version + 1);
    expect(desk.state.tokens).toHaveLength(3);

    const desk2 = new Desk(4, { quotas: [walkInQuota(2, 30)], minute: -60 });
    desk2.book('ONLINE');
    desk2.book('ONLINE');
    const w = desk2.book('ONLINE', 'waitlist');
    desk2.minute = 0;
    const ok = desk2.tryBook('PAID_PRIORITY');
    expect(ok.outcome).toEqual({ ok: true, httpStatus: 201, tokenId: ok.tokenId, promotedIds: [w] });
    expect(ok.changedTokenIds).toEqual([w, ok.tokenId]);
    expect(desk2.state.slot.version).toBe(desk2.state.tokens.length + 1); // one bump per booking
  });
});

describe('quotas: capacity changes', () => {
  it('lowering the capacity below the reserved sum caps the reservations, last-listed quota first', () => {
    const quotas: SourceQuota[] = [walkInQuota(3, 30), { source: 'FOLLOW_UP', places: 4, releaseMinutesBeforeStart: 10 }];
    expect(capQuotas(quotas, 7)).toEqual(quotas);
    expect(capQuotas(quotas, 5)).toEqual([walkInQuota(3, 30), { source: 'FOLLOW_UP', places: 2, releaseMinutesBeforeStart: 10 }]);
    expect(capQuotas(quotas, 2)).toEqual([walkInQuota(2, 30)]);

    const desk = new Desk(10, { quotas, minute: -60 });
    const res = desk.run({ type: 'slot.set-capacity', capacity: 4 });
    expect(res.outcome.ok).toBe(true);
    expect(desk.state.slot.quotas).toEqual([walkInQuota(3, 30), { source: 'FOLLOW_UP', places: 1, releaseMinutesBeforeStart: 10 }]);
    // Raising it again restores nothing.
    desk.run({ type: 'slot.set-capacity', capacity: 10 });
    expect(desk.state.slot.quotas).toEqual([walkInQuota(3, 30), { source: 'FOLLOW_UP', places: 1, releaseMinutesBeforeStart: 10 }]);
  });

  it('reservations never move anyone: a decrease fills no reserved place and an increase promotes by the quota rule', () => {
    const desk = new Desk(10, { quotas: [walkInQuota(2, 30)], minute: -60 });
    for (let i = 0; i < 8; i += 1) desk.book('ONLINE');
    const waiting = desk.book('ONLINE', 'waitlist');
    const lowered = desk.run({ type: 'slot.set-capacity', capacity: 8 });
    expect(lowered.outcome).toMatchObject({ ok: true, movedIds: [], promotedIds: [] });
    expect(codeOf(desk.tryBook('WALK_IN'))).toBe('SLOT_FULL'); // full: the reservation cannot be honoured
    const raised = desk.run({ type: 'slot.set-capacity', capacity: 11 });
    // 3 free places, 2 held for walk-ins: one for the waitlisted ONLINE.
    expect(raised.outcome).toMatchObject({ ok: true, promotedIds: [waiting] });
  });
});

describe('quota validation (POST /api/slots body)', () => {
  const body = (quotas: unknown, capacity = 10) => ({
    doctorId: 'doc-1',
    start: at(0),
    end: at(60),
    capacity,
    quotas,
  });
  const fieldsOf = (value: unknown): string[] => {
    try {
      parseRequest(CreateSlotRequestSchema, value, 'body');
    } catch (err) {
      return ((err as { details: { fields: { field: string }[] } }).details.fields ?? []).map((f) => f.field);
    }
    return [];
  };

  it('accepts valid quotas and no quotas', () => {
    expect(fieldsOf(body([walkInQuota(), { source: 'ONLINE', places: 8, releaseMinutesBeforeStart: 0 }]))).toEqual([]);
    expect(fieldsOf(body([]))).toEqual([]);
    const { quotas: _q, ...without } = body([]);
    expect(fieldsOf(without)).toEqual([]);
  });

  it('names the bad field', () => {
    expect(fieldsOf(body([{ source: 'EMERGENCY', places: 1, releaseMinutesBeforeStart: 0 }]))).toEqual(['quotas.0.source']);
    expect(fieldsOf(body([walkInQuota(1), walkInQuota(1)]))).toEqual(['quotas.1.source']);
    expect(fieldsOf(body([walkInQuota(6), { source: 'ONLINE', places: 5, releaseMinutesBeforeStart: 0 }]))).toEqual(['quotas']);
    expect(fieldsOf(body([walkInQuota(0)]))).toEqual(['quotas.0.places']);
    expect(fieldsOf(body([walkInQuota(1.5)]))).toEqual(['quotas.0.places']);
    expect(fieldsOf(body([walkInQuota(1, -1)]))).toEqual(['quotas.0.releaseMinutesBeforeStart']);
    expect(fieldsOf(body([{ ...walkInQuota(), extra: 1 }]))).toEqual(['quotas.0.extra']);
    expect(fieldsOf(body([{ source: 'NURSE', places: 1, releaseMinutesBeforeStart: 0 }]))).toEqual(['quotas.0.source']);
    expect(fieldsOf(body({ source: 'WALK_IN' }))).toEqual(['quotas']);
  });

  it('quotaProblems: each source once, no EMERGENCY, sum of places <= capacity', () => {
    expect(quotaProblems(3, [{ source: 'WALK_IN', places: 3 }])).toEqual([]);
    expect(quotaProblems(3, [{ source: 'WALK_IN', places: 2 }, { source: 'ONLINE', places: 2 }])).toEqual([
      { path: [], message: 'the quotas reserve 4 places, more than the capacity 3' },
    ]);
  });
});

describe('quotas on the public Slot', () => {
  it('shows each quota with its release time and how many of its places are filled', () => {
    const desk = new Desk(5, { quotas: [walkInQuota(2, 30)], minute: -60 });
    desk.book('WALK_IN');
    desk.book('ONLINE');
    expect(buildSlotView(desk.state).slot.quotas).toEqual([
      { source: 'WALK_IN', places: 2, releaseMinutesBeforeStart: 30, releasesAt: at(-30), filled: 1 },
    ]);
    expect(toPublicSlot(new Desk(2).state.slot, []).quotas).toBeUndefined();
  });
});

describe('quotas: property', () => {
  // Random bookings, releases and clock moves across the release time: non-emergency tokens never
  // eat into a reservation that still holds. With E = emergencies holding a place and R(now) the
  // unfilled reserved places: capacity - activeCount + E >= R(now) after every step.
  const stepArb = fc.oneof(
    fc.record({
      kind: fc.constant('book' as const),
      source: fc.constantFrom<Source>('EMERGENCY', 'PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN', 'WALK_IN'),
      onFull: fc.constantFrom<OnFull>('reject', 'waitlist'),
      dt: fc.integer({ min: 0, max: 6 }),
    }),
    fc.record({
      kind: fc.constantFrom('cancel' as const, 'no-show' as const),
      index: fc.nat({ max: 50 }),
      dt: fc.integer({ min: 0, max: 6 }),
    }),
  );
  it('keeps the reserved places free for their sources', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 60 }),
        fc.array(stepArb, { maxLength: 40 }),
        (capacity, places, release, steps) => {
          const quotas: SourceQuota[] = [
            { source: 'WALK_IN', places: Math.min(places, capacity), releaseMinutesBeforeStart: release },
            { source: 'FOLLOW_UP', places: Math.max(0, Math.min(2, capacity - places)), releaseMinutesBeforeStart: 15 },
          ].filter((q) => q.places > 0) as SourceQuota[];
          const desk = new Desk(capacity, { quotas, minute: -90 });
          for (const step of steps) {
            desk.minute += step.dt;
            const versionBefore = desk.state.slot.version;
            if (step.kind === 'book') desk.tryBook(step.source, step.onFull);
            else if (desk.state.tokens.length > 0) {
              const target = desk.state.tokens[step.index % desk.state.tokens.length];
              desk.run({ type: step.kind === 'cancel' ? 'token.cancel' : 'token.no-show', tokenId: target.id });
            }
            const now = at(desk.minute);
            const { tokens } = desk.state;
            const emergencies = tokens.filter((t) => t.source === 'EMERGENCY' && CAPACITY_HOLDING.has(t.status)).length;
            const unfilledReserved = reservedAgainst(desk.state, 'ONLINE', now); // ONLINE has no quota: sees them all
            expect(capacity - activeCount(tokens) + emergencies).toBeGreaterThanOrEqual(unfilledReserved);
            expect(tokens.filter((t) => t.source !== 'EMERGENCY' && CAPACITY_HOLDING.has(t.status)).length).toBeLessThanOrEqual(capacity);
            // After a change (a booking or a release), no waitlisted token could have been admitted.
            // Without one (a refused or repeated command), a lapsed reservation waits for the next
            // change: nothing runs on a timer.
            const changed = desk.state.slot.version !== versionBefore;
            for (const w of changed ? tokens.filter((t) => t.status === 'WAITLISTED') : []) {
              expect(activeCount(tokens) < capacity && hasRoomFor(desk.state, w.source, now)).toBe(false);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Estimates
// ---------------------------------------------------------------------------------------------

describe('consultation estimate: seed and moving average', () => {
  it('defaults to the slot planned pace (length / capacity), clamped to 1..60 minutes, 0.1 precision', () => {
    expect(defaultConsultationMinutes({ start: at(0), end: at(120), capacity: 12 })).toBe(10);
    expect(defaultConsultationMinutes({ start: at(0), end: at(60), capacity: 7 })).toBe(8.6);
    expect(defaultConsultationMinutes({ start: at(0), end: at(60), capacity: 500 })).toBe(1);
    expect(defaultConsultationMinutes({ start: at(0), end: at(600), capacity: 2 })).toBe(60);
  });

  it('is seeded from the doctor latest measured average when there is one', () => {
    const slot = { start: at(0), end: at(120), capacity: 12 };
    expect(seedConsultation(slot, 14.5)).toEqual({ averageMinutes: 14.5, samples: 0 });
    expect(seedConsultation(slot, null)).toEqual({ averageMinutes: 10, samples: 0 });
    expect(seedConsultation(slot, 0)).toEqual({ averageMinutes: 10, samples: 0 });
  });

  it('each completion moves the average by alpha towards the measured duration (calledAt -> completedAt)', () => {
    expect(CONSULTATION_EMA_ALPHA).toBe(0.3);
    expect(recordConsultation({ averageMinutes: 10, samples: 0 }, 20)).toEqual({ averageMinutes: 13, samples: 1 });
    expect(recordConsultation({ averageMinutes: 13, samples: 1 }, 5)).toEqual({ averageMinutes: 10.6, samples: 2 });
    // Clamped to 1..120 minutes before it counts.
    expect(recordConsultation({ averageMinutes: 10, samples: 0 }, 0)).toEqual({ averageMinutes: 7.3, samples: 1 });
    expect(recordConsultation({ averageMinutes: 10, samples: 0 }, 600)).toEqual({ averageMinutes: 43, samples: 1 });
  });

  it('call-next stamps calledAt, recall keeps it, complete stamps completedAt and feeds the slot average', () => {
    const desk = new Desk(12, { minute: 0 });
    desk.run({ type: 'slot.delay', minutes: 1 }); // any change
    const a = desk.book('WALK_IN');
    const b = desk.book('WALK_IN');
    expect(consultationOf(desk.state.slot)).toEqual({ averageMinutes: 10, samples: 0 }); // 120 / 12
    desk.run({ type: 'slot.call-next' }, 1);
    expect(desk.token(a).calledAt).toBe(at(1));
    desk.run({ type: 'token.recall', tokenId: a }, 5);
    expect(desk.token(a).calledAt).toBe(at(1));
    desk.run({ type: 'token.complete', tokenId: a }, 14);
    expect(desk.token(a)).toMatchObject({ status: 'COMPLETED', calledAt: at(1), completedAt: at(20) });
    expect(desk.state.slot.consultation).toEqual({ averageMinutes: 12.7, samples: 1 }); // 10 + 0.3 * (19 - 10)
    desk.run({ type: 'slot.call-next' });
    desk.run({ type: 'token.complete', tokenId: b }, 4);
    expect(desk.state.slot.consultation).toEqual({ averageMinutes: 10.09, samples: 2 }); // 12.7 + 0.3 * (4 - 12.7)
    const view = buildSlotView(desk.state);
    expect(view.slot.averageConsultationMinutes).toBe(10.09);
    expect(view.tokens.find((t) => t.id === a)).toMatchObject({ calledAt: at(1), completedAt: at(20) });
  });

  it('a no-show or cancel of a CALLED token adds no sample; a token without calledAt adds none either', () => {
    const desk = new Desk(4, { minute: 0 });
    const a = desk.book('WALK_IN');
    desk.run({ type: 'slot.call-next' }, 1);
    desk.run({ type: 'token.no-show', tokenId: a }, 30);
    expect(consultationOf(desk.state.slot).samples).toBe(0);
    const b = desk.book('WALK_IN');
    desk.state = deepFreeze({ ...desk.state, tokens: desk.state.tokens.map((t) => (t.id === b ? { ...t, status: 'CALLED' as const } : t)) });
    const res = desk.run({ type: 'token.complete', tokenId: b }, 5);
    expect(res.outcome.ok).toBe(true);
    expect(desk.state.slot.consultation).toEqual(new Desk(4).state.slot.consultation);
  });
});

describe('waiting estimates (estimatedAt)', () => {
  /** A slot with a 10-minute average (120 min / 12 places), created an hour before its start. */
  const newDesk = () => {
    const desk = new Desk(12, { minute: -60, slot: { consultation: { averageMinutes: 10, samples: 0 } } });
    return desk;
  };

  it('before the start: start + (position - 1) x average, in queue order; only BOOKED/CHECKED_IN have one', () => {
    const desk = newDesk();
    const walkIn = desk.book('WALK_IN');
    const online = desk.book('ONLINE');
    const paid = desk.book('PAID_PRIORITY');
    desk.book('ONLINE');
    desk.run({ type: 'slot.set-capacity', capacity: 3 }); // the last ONLINE goes to the waitlist
    const view = buildSlotView(desk.state);
    expect(view.queue.map((t) => [t.id, minutesAfterStart(t.estimatedAt!)])).toEqual([
      [paid, 0],
      [online, 10],
      [walkIn, 20],
    ]);
    expect(view.waitlist.every((t) => t.estimatedAt === undefined)).toBe(true);
  });

  it('an emergency goes ahead: everyone behind moves one average later', () => {
    const desk = newDesk();
    const online = desk.book('ONLINE');
    desk.book('EMERGENCY');
    const estimate = buildSlotView(desk.state).queue.find((t) => t.id === online)!.estimatedAt!;
    expect(minutesAfterStart(estimate)).toBe(10);
  });

  it('a delay shifts every estimate by the delay', () => {
    const desk = newDesk();
    desk.book('ONLINE');
    desk.book('ONLINE');
    const before = buildSlotView(desk.state).queue.map((t) => minutesAfterStart(t.estimatedAt!));
    desk.run({ type: 'slot.delay', minutes: 25 });
    const after = buildSlotView(desk.state).queue.map((t) => minutesAfterStart(t.estimatedAt!));
    expect(before).toEqual([0, 10]);
    expect(after).toEqual([25, 35]);
  });

  it('a running slot counts from its last change (estimateBase), and CALLED patients are ahead of position 1', () => {
    const desk = newDesk();
    const a = desk.book('WALK_IN');
    const b = desk.book('WALK_IN');
    const c = desk.book('WALK_IN');
    desk.minute = 7;
    desk.run({ type: 'slot.call-next' });
    expect(desk.state.slot.estimateBase).toBe(at(7));
    const view = buildSlotView(desk.state);
    expect(view.nowServing.map((t) => [t.id, t.estimatedAt])).toEqual([[a, undefined]]);
    expect(view.queue.map((t) => [t.id, minutesAfterStart(t.estimatedAt!)])).toEqual([
      [b, 17],
      [c, 27],
    ]);
    // A delay that ends before "now" does not push the estimates.
    desk.run({ type: 'slot.delay', minutes: 5 }, 1);
    expect(buildSlotView(desk.state).queue.map((t) => minutesAfterStart(t.estimatedAt!))).toEqual([18, 28]);
  });

  it('the learned average drives the estimates', () => {
    const desk = newDesk();
    desk.minute = 0;
    const a = desk.book('WALK_IN');
    desk.book('WALK_IN');
    desk.book('WALK_IN');
    desk.run({ type: 'slot.call-next' });
    desk.run({ type: 'token.complete', tokenId: a }, 20); // 10 + 0.3 * (20 - 10) = 13
    expect(buildSlotView(desk.state).queue.map((t) => minutesAfterStart(t.estimatedAt!))).toEqual([20, 33]);
  });

  it('is pure: the view depends on the state only, not on the wall clock', () => {
    const desk = newDesk();
    desk.book('ONLINE');
    desk.book('WALK_IN');
    const first = JSON.stringify(buildSlotView(desk.state));
    const realNow = Date.now;
    Date.now = () => realNow() + 86_400_000;
    try {
      expect(JSON.stringify(buildSlotView(desk.state))).toBe(first);
    } finally {
      Date.now = realNow;
    }
    expect(estimatedTimes({ ...desk.state, tokens: [] }).size).toBe(0);
  });

  it('a state without consultation or estimateBase (stored before them) uses the planned pace and the planned start', () => {
    const desk = newDesk();
    desk.book('ONLINE');
    desk.book('ONLINE');
    const { consultation: _c, estimateBase: _e, ...slot } = desk.state.slot;
    const bare = { slot, tokens: desk.state.tokens };
    expect(buildSlotView(bare).queue.map((t) => minutesAfterStart(t.estimatedAt!))).toEqual([0, 10]);
  });

  it('applyCommand stamps estimateBase on every change and leaves it on a refusal', () => {
    const desk = new Desk(1, { minute: -5 });
    expect(desk.state.slot.estimateBase).toBeUndefined();
    desk.book('ONLINE');
    expect(desk.state.slot.estimateBase).toBe(at(-5));
    desk.minute = -2;
    expect(codeOf(desk.tryBook('ONLINE'))).toBe('SLOT_FULL');
    expect(desk.state.slot.estimateBase).toBe(at(-5));
  });
});

// ---------------------------------------------------------------------------------------------
// Labels: the day of the counter in the branch's time zone
// ---------------------------------------------------------------------------------------------

describe('label counter day in the branch time zone', () => {
  // 18:00Z is 23:30 in Kolkata (3 March); 19:00Z is 00:30 on 4 March there, still 3 March in UTC.
  const earlier = { id: 's-a', start: '2025-03-03T18:00:00.000Z', capacity: 5 };
  const slot = { id: 's-b', start: '2025-03-03T19:00:00.000Z' };

  it('counts the earlier slot the same UTC day by default', () => {
    expect(labelBaseFor(slot, [earlier])).toBe(5);
    expect(labelBaseFor(slot, [earlier], 'UTC')).toBe(5);
  });

  it('starts a new day at local midnight in another zone', () => {
    expect(labelBaseFor(slot, [earlier], 'Asia/Kolkata')).toBe(0);
    expect(calendarDay('Asia/Kolkata')(Date.parse(slot.start))).toBe('2025-03-04');
    expect(calendarDay('UTC')(Date.parse(slot.start))).toBe('2025-03-03');
  });
});
