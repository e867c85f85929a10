/**
 * Unit tests of the day-flow extensions (issue 4): capacity change, delay, close, recall,
 * reallocation links and token labels. One describe per rule; pure functions only.
 */
import fc from 'fast-check';
import type { OnFull, Source, TokenStatus } from '../schemas/common';
import { applyCommand, closeOrder, createSlotState, labelBaseFor, labelFor, labelPrefixFor, type ApplyResult } from './allocation';
import { CAPACITY_HOLDING, LIVE_STATUSES, type DomainCommand, type SlotState, type TokenRecord } from './model';
import { activeCount, buildSlotView, toPublicSlot, toPublicToken } from './queue';

const START_MS = Date.parse('2025-03-03T09:00:00.000Z');
const at = (minute: number): string => new Date(START_MS + minute * 60_000).toISOString();

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** A slot and a clock moving one minute per command; every state is frozen to catch mutation. */
class Desk {
  state: SlotState;
  minute = 0;
  private seq = 0;

  constructor(capacity: number, extra: { labelPrefix?: string; labelBase?: number; delayMinutes?: number } = {}) {
    this.state = deepFreeze(
      createSlotState({ id: 'slot-1', doctorId: 'doc-1', branchId: 'b', start: at(0), end: at(180), capacity, ...extra }),
    );
  }

  run(command: DomainCommand): ApplyResult {
    this.minute += 1;
    const result = applyCommand(this.state, command, { now: at(this.minute) });
    this.state = deepFreeze(result.state);
    return result;
  }

  book(source: Source, onFull: OnFull = 'reject', extra: Partial<Extract<DomainCommand, { type: 'token.book' }>> = {}): string {
    const tokenId = `t${++this.seq}`;
    const res = this.run({ type: 'token.book', tokenId, source, patient: { name: tokenId, mrn: tokenId }, onFull, ...extra });
    if (!res.outcome.ok) throw new Error(`booking ${tokenId} failed: ${res.outcome.code}`);
    return tokenId;
  }

  status(id: string): TokenStatus {
    return this.token(id).status;
  }

  token(id: string): TokenRecord {
    const t = this.state.tokens.find((x) => x.id === id);
    if (!t) throw new Error(`no token ${id}`);
    return t;
  }

  setStatus(id: string, status: TokenStatus) {
    this.state = deepFreeze({ ...this.state, tokens: this.state.tokens.map((t) => (t.id === id ? { ...t, status } : t)) });
  }
}

const nonEmergencyHolding = (state: SlotState) =>
  state.tokens.filter((t) => t.source !== 'EMERGENCY' && CAPACITY_HOLDING.has(t.status)).length;

describe('slot.set-capacity: increase', () => {
  it('promotes waitlisted tokens by weight, then arrival, while there is room', () => {
    const desk = new Desk(1);
    desk.book('ONLINE');
    const walkIn = desk.book('WALK_IN', 'waitlist');
    const onlineEarly = desk.book('ONLINE', 'waitlist');
    const onlineLate = desk.book('ONLINE', 'waitlist');
    const followUp = desk.book('FOLLOW_UP', 'waitlist');
    const version = desk.state.slot.version;

    const res = desk.run({ type: 'slot.set-capacity', capacity: 4 });
    expect(res.outcome).toMatchObject({ ok: true, httpStatus: 200, promotedIds: [followUp, onlineEarly, onlineLate], movedIds: [] });
    expect(desk.state.slot.capacity).toBe(4);
    expect(desk.state.slot.version).toBe(version + 1);
    expect(desk.status(walkIn)).toBe('WAITLISTED');
    expect(activeCount(desk.state.tokens)).toBe(4);
    expect(res.changedTokenIds.sort()).toEqual([followUp, onlineEarly, onlineLate].sort());
  });

  it('promotes nothing while emergencies still fill the larger capacity', () => {
    const desk = new Desk(1);
    desk.book('ONLINE');
    desk.book('EMERGENCY');
    desk.book('EMERGENCY');
    const waiting = desk.book('ONLINE', 'waitlist');
    expect(desk.run({ type: 'slot.set-capacity', capacity: 3 }).outcome).toMatchObject({ ok: true, promotedIds: [] });
    expect(desk.status(waiting)).toBe('WAITLISTED');
    desk.run({ type: 'slot.set-capacity', capacity: 4 });
    expect(desk.status(waiting)).toBe('BOOKED');
  });

  it('the same capacity changes nothing (no version bump)', () => {
    const desk = new Desk(2);
    desk.book('ONLINE');
    const before = desk.state;
    const res = desk.run({ type: 'slot.set-capacity', capacity: 2 });
    expect(res.outcome).toMatchObject({ ok: true, promotedIds: [], movedIds: [] });
    expect(res.state).toBe(before);
    expect(res.changedTokenIds).toEqual([]);
  });
});

describe('slot.set-capacity: decrease', () => {
  it('moves the newest lowest-priority BOOKED tokens to the waitlist until non-emergency active <= capacity', () => {
    const desk = new Desk(5);
    const paid = desk.book('PAID_PRIORITY');
    const online1 = desk.book('ONLINE');
    const followUp = desk.book('FOLLOW_UP');
    const online2 = desk.book('ONLINE');
    const online3 = desk.book('ONLINE');

    const res = desk.run({ type: 'slot.set-capacity', capacity: 3 });
    expect(res.outcome).toMatchObject({ ok: true, movedIds: [online3, online2], promotedIds: [] });
    expect([paid, online1, followUp].map((id) => desk.status(id))).toEqual(['BOOKED', 'BOOKED', 'BOOKED']);
    expect(desk.status(online3)).toBe('WAITLISTED');
    expect(desk.status(online2)).toBe('WAITLISTED');
    // They keep their arrival, so the waitlist orders them as they booked.
    expect(buildSlotView(desk.state).waitlist.map((t) => [t.id, t.position])).toEqual([
      [online2, 1],
      [online3, 2],
    ]);
    expect(nonEmergencyHolding(desk.state)).toBe(3);
  });

  it('never moves emergencies, nor tokens at the desk or beyond (CHECKED_IN, CALLED, COMPLETED)', () => {
    const desk = new Desk(6);
    const emergency = desk.book('EMERGENCY');
    const walkIn = desk.book('WALK_IN'); // CHECKED_IN on issue
    const called = desk.book('ONLINE');
    const completed = desk.book('ONLINE');
    const booked = desk.book('FOLLOW_UP');
    desk.setStatus(called, 'CALLED');
    desk.setStatus(completed, 'COMPLETED');

    const res = desk.run({ type: 'slot.set-capacity', capacity: 1 });
    expect(res.outcome).toMatchObject({ ok: true, movedIds: [booked] });
    expect(desk.status(emergency)).toBe('CHECKED_IN');
    expect(desk.status(walkIn)).toBe('CHECKED_IN');
    expect(desk.status(called)).toBe('CALLED');
    expect(desk.status(completed)).toBe('COMPLETED');
    // Not enough movable tokens: the capacity is lowered anyway and the slot stays over it.
    expect(desk.state.slot.capacity).toBe(1);
    expect(activeCount(desk.state.tokens)).toBe(4);
    expect(toPublicSlot(desk.state.slot, desk.state.tokens)).toMatchObject({ capacity: 1, activeCount: 4, available: 0 });
  });

  it('moved tokens come back first (by weight, then arrival) when a place frees', () => {
    const desk = new Desk(2);
    const a = desk.book('ONLINE');
    const b = desk.book('ONLINE');
    desk.run({ type: 'slot.set-capacity', capacity: 1 });
    expect(desk.status(b)).toBe('WAITLISTED');
    const late = desk.book('WALK_IN', 'waitlist');
    const cancel = desk.run({ type: 'token.cancel', tokenId: a });
    expect(cancel.outcome).toMatchObject({ ok: true, promotedIds: [b] });
    expect(desk.status(late)).toBe('WAITLISTED');
  });

  it('rejects a capacity below 1 and a closed slot', () => {
    const desk = new Desk(2);
    expect(desk.run({ type: 'slot.set-capacity', capacity: 0 }).outcome).toMatchObject({ ok: false, code: 'VALIDATION_ERROR' });
    desk.run({ type: 'slot.close' });
    expect(desk.run({ type: 'slot.set-capacity', capacity: 3 }).outcome).toMatchObject({ ok: false, code: 'SLOT_CLOSED' });
  });
});

describe('slot.delay', () => {
  it('adds up the minutes, keeps start and end, bumps the version and shows on the public slot', () => {
    const desk = new Desk(2, { delayMinutes: 0 });
    const { start, end, version } = desk.state.slot;
    desk.run({ type: 'slot.delay', minutes: 15 });
    const res = desk.run({ type: 'slot.delay', minutes: 10 });
    expect(res.outcome).toMatchObject({ ok: true, httpStatus: 200 });
    expect(desk.state.slot).toMatchObject({ delayMinutes: 25, start, end, version: version + 2 });
    expect(toPublicSlot(desk.state.slot, desk.state.tokens).delayMinutes).toBe(25);
  });

  it('starts from 0 on a slot record without the field; rejects bad minutes and closed slots', () => {
    const desk = new Desk(2);
    expect(toPublicSlot(desk.state.slot, []).delayMinutes).toBeUndefined();
    desk.run({ type: 'slot.delay', minutes: 5 });
    expect(desk.state.slot.delayMinutes).toBe(5);
    expect(desk.run({ type: 'slot.delay', minutes: 0 }).outcome).toMatchObject({ ok: false, code: 'VALIDATION_ERROR' });
    desk.run({ type: 'slot.close' });
    expect(desk.run({ type: 'slot.delay', minutes: 5 }).outcome).toMatchObject({ ok: false, code: 'SLOT_CLOSED' });
  });
});

describe('slot.close', () => {
  it('closes the slot and makes every live token MOVED, holders in queue order, then the waitlist', () => {
    const desk = new Desk(3);
    const online = desk.book('ONLINE');
    const walkIn = desk.book('WALK_IN');
    const paid = desk.book('PAID_PRIORITY');
    const waitFollowUp = desk.book('FOLLOW_UP', 'waitlist');
    const emergency = desk.book('EMERGENCY');
    const called = desk.book('ONLINE', 'waitlist');
    desk.setStatus(called, 'CALLED');
    const cancelled = desk.book('WALK_IN', 'waitlist');
    desk.run({ type: 'token.cancel', tokenId: cancelled });
    const version = desk.state.slot.version;

    const res = desk.run({ type: 'slot.close' });
    expect(res.outcome).toMatchObject({ ok: true, httpStatus: 200, movedIds: [emergency, paid, online, walkIn, waitFollowUp] });
    expect(desk.state.slot).toMatchObject({ status: 'CLOSED', version: version + 1 });
    for (const id of [emergency, paid, online, walkIn, waitFollowUp]) {
      expect(desk.token(id)).toMatchObject({ status: 'MOVED', movedTo: null });
    }
    expect(desk.status(called)).toBe('CALLED');
    expect(desk.status(cancelled)).toBe('CANCELLED');
    expect(res.changedTokenIds.sort()).toEqual([emergency, paid, online, walkIn, waitFollowUp].sort());
    const view = buildSlotView(desk.state);
    expect(view.queue).toEqual([]);
    expect(view.waitlist).toEqual([]);
    expect(view.slot.status).toBe('CLOSED');
  });

  it('rejects bookings afterwards (SLOT_CLOSED) and closing again changes nothing', () => {
    const desk = new Desk(2);
    desk.book('ONLINE');
    desk.run({ type: 'slot.close' });
    const before = desk.state;
    const again = desk.run({ type: 'slot.close' });
    expect(again.outcome).toMatchObject({ ok: true, movedIds: [] });
    expect(again.state).toBe(before);
    const refused = desk.run({ type: 'token.book', tokenId: 'x', source: 'EMERGENCY', patient: { name: 'x' }, onFull: 'reject' });
    expect(refused.outcome).toMatchObject({ ok: false, code: 'SLOT_CLOSED' });
  });

  it('a MOVED token cannot be cancelled, checked in or marked no-show', () => {
    const desk = new Desk(2);
    const t = desk.book('ONLINE');
    desk.run({ type: 'slot.close' });
    for (const type of ['token.cancel', 'token.check-in', 'token.no-show'] as const) {
      expect(desk.run({ type, tokenId: t }).outcome).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' });
    }
  });

  it('closeOrder: holders by (weight, arrival), then waitlisted by (weight, arrival)', () => {
    const desk = new Desk(2);
    const a = desk.book('WALK_IN');
    const b = desk.book('FOLLOW_UP');
    const c = desk.book('PAID_PRIORITY', 'waitlist');
    const d = desk.book('ONLINE', 'waitlist');
    expect(closeOrder(desk.state.tokens).map((t) => t.id)).toEqual([b, a, c, d]);
  });
});

describe('token.book for a reallocated token', () => {
  it('keeps the original arrival and source (so weight), records movedFrom', () => {
    const desk = new Desk(3);
    desk.book('ONLINE'); // arrives at minute 1
    const moved = desk.book('ONLINE', 'next-slot', { arrivalAt: at(-30), movedFromTokenId: 'old-1' });
    expect(desk.token(moved)).toMatchObject({ arrivalAt: at(-30), createdAt: at(2), movedFrom: 'old-1', weight: 4, status: 'BOOKED' });
    // An earlier arrival goes first among equal weights.
    expect(buildSlotView(desk.state).queue[0]).toMatchObject({ id: moved, movedFrom: 'old-1', position: 1 });
  });
});

describe('token.link-move', () => {
  it('fills movedTo of a MOVED token, idempotently', () => {
    const desk = new Desk(2);
    const t = desk.book('ONLINE');
    desk.run({ type: 'slot.close' });
    const version = desk.state.slot.version;
    expect(desk.run({ type: 'token.link-move', tokenId: t, movedTo: 'new-1' }).outcome).toMatchObject({ ok: true, tokenId: t });
    expect(desk.token(t).movedTo).toBe('new-1');
    expect(desk.state.slot.version).toBe(version + 1);
    const again = desk.run({ type: 'token.link-move', tokenId: t, movedTo: 'new-1' });
    expect(again.changedTokenIds).toEqual([]);
    expect(desk.state.slot.version).toBe(version + 1);
    expect(toPublicToken(desk.token(t), null)).toMatchObject({ status: 'MOVED', movedTo: 'new-1' });
  });

  it('refuses a token that is not MOVED, and an unknown one', () => {
    const desk = new Desk(2);
    const t = desk.book('ONLINE');
    expect(desk.run({ type: 'token.link-move', tokenId: t, movedTo: 'x' }).outcome).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' });
    expect(desk.run({ type: 'token.link-move', tokenId: 'nope', movedTo: 'x' }).outcome).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });
});

describe('token.recall', () => {
  it('counts each recall of a CALLED token and bumps the version', () => {
    const desk = new Desk(2);
    const t = desk.book('WALK_IN');
    desk.run({ type: 'slot.call-next' });
    const version = desk.state.slot.version;
    expect(desk.run({ type: 'token.recall', tokenId: t }).outcome).toMatchObject({ ok: true, httpStatus: 200, tokenId: t });
    desk.run({ type: 'token.recall', tokenId: t });
    expect(desk.token(t)).toMatchObject({ status: 'CALLED', recallCount: 2 });
    expect(desk.state.slot.version).toBe(version + 2);
    expect(toPublicToken(desk.token(t), null).recallCount).toBe(2);
  });

  it.each(['BOOKED', 'CHECKED_IN', 'WAITLISTED', 'COMPLETED', 'CANCELLED', 'NO_SHOW', 'MOVED'] as TokenStatus[])(
    'refuses a %s token with INVALID_TRANSITION',
    (status) => {
      const desk = new Desk(2);
      const t = desk.book('ONLINE');
      desk.setStatus(t, status);
      const before = desk.state;
      const res = desk.run({ type: 'token.recall', tokenId: t });
      expect(res.outcome).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' });
      expect(res.state).toBe(before);
    },
  );

  it('an unknown token is NOT_FOUND', () => {
    expect(new Desk(1).run({ type: 'token.recall', tokenId: 'x' }).outcome).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });
});

describe('labels', () => {
  it('labelPrefixFor: first 3 letters without "Dr.", upper-case', () => {
    expect(labelPrefixFor('Dr. Smith')).toBe('SMI');
    expect(labelPrefixFor('dr smith')).toBe('SMI');
    expect(labelPrefixFor('Dr.Ortega')).toBe('ORT');
    expect(labelPrefixFor("Dr. O'Brien")).toBe('OBR');
    expect(labelPrefixFor('Drake Ramoray')).toBe('DRA');
    expect(labelPrefixFor('Dr. Li')).toBe('LI');
    expect(labelPrefixFor('Dr. 42')).toBe('DOC');
  });

  it('labelFor: prefix and the 3-digit day counter', () => {
    expect(labelFor('SMI', 0, 7)).toBe('SMI-007');
    expect(labelFor('SMI', 20, 3)).toBe('SMI-023');
    expect(labelFor('SMI', 995, 7)).toBe('SMI-1002');
  });

  it('labelBaseFor: capacities of the earlier slots of the same (UTC) day', () => {
    const slots = [
      { id: 'a', start: '2025-03-03T08:00:00.000Z', capacity: 10 },
      { id: 'b', start: '2025-03-03T09:00:00.000Z', capacity: 5 },
      { id: 'c', start: '2025-03-02T23:00:00.000Z', capacity: 7 }, // the day before
      { id: 'd', start: '2025-03-03T12:00:00.000Z', capacity: 4 }, // later
    ];
    expect(labelBaseFor({ id: 'new', start: '2025-03-03T10:00:00.000Z' }, slots)).toBe(15);
    expect(labelBaseFor({ id: 'new', start: '2025-03-03T07:00:00.000Z' }, slots)).toBe(0);
    // Same start: ties broken by id, and the slot itself never counts.
    expect(labelBaseFor({ id: 'a0', start: '2025-03-03T09:00:00.000Z' }, slots)).toBe(10);
    expect(labelBaseFor({ id: 'bz', start: '2025-03-03T09:00:00.000Z' }, slots)).toBe(15);
    expect(labelBaseFor({ id: 'b', start: '2025-03-03T09:00:00.000Z' }, slots)).toBe(10);
  });

  it('book labels tokens from the slot prefix and base; numbers stay per slot', () => {
    const desk = new Desk(2, { labelPrefix: 'SMI', labelBase: 10 });
    const a = desk.book('ONLINE');
    const b = desk.book('EMERGENCY');
    expect(desk.token(a)).toMatchObject({ number: 1, label: 'SMI-011' });
    expect(desk.token(b)).toMatchObject({ number: 2, label: 'SMI-012' });
    expect(toPublicToken(desk.token(a), 1).label).toBe('SMI-011');
  });

  it('a slot without a prefix (created before labels) issues no label', () => {
    const desk = new Desk(1);
    const a = desk.book('ONLINE');
    expect(desk.token(a).label).toBeUndefined();
    expect('label' in toPublicToken(desk.token(a), 1)).toBe(false);
  });
});

describe('properties with capacity changes, delays, recalls and a close in the mix', () => {
  const SOURCES: Source[] = ['EMERGENCY', 'PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN'];
  const stepArb = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('book' as const), source: fc.constantFrom(...SOURCES), onFull: fc.constantFrom<OnFull>('reject', 'waitlist') }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('capacity' as const), capacity: fc.integer({ min: 1, max: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('cancel' as const, 'check-in' as const, 'recall' as const), index: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('call-next' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delay' as const), minutes: fc.integer({ min: 1, max: 600 }) }) },
  );

  it('nobody is lost, waitlists only exist when full, non-emergency excess is only unmovable tokens', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(stepArb, { maxLength: 60 }), (capacity, steps) => {
        const desk = new Desk(capacity, { delayMinutes: 0 });
        const issued: string[] = [];
        let delayTotal = 0;
        for (const step of steps) {
          const before = desk.state;
          let res: ApplyResult;
          if (step.kind === 'book') {
            const tokenId = `t${issued.length + 1}`;
            res = desk.run({ type: 'token.book', tokenId, source: step.source, patient: { name: tokenId, mrn: tokenId }, onFull: step.onFull });
            if (res.outcome.ok) issued.push(tokenId);
          } else if (step.kind === 'capacity') {
            res = desk.run({ type: 'slot.set-capacity', capacity: step.capacity });
          } else if (step.kind === 'delay') {
            res = desk.run({ type: 'slot.delay', minutes: step.minutes });
            if (res.outcome.ok) delayTotal += step.minutes;
          } else if (step.kind === 'call-next') {
            res = desk.run({ type: 'slot.call-next' });
          } else if (step.kind === 'close') {
            res = desk.run({ type: 'slot.close' });
          } else {
            const tokenId = issued.length ? issued[step.index % issued.length] : 'none';
            const type = step.kind === 'cancel' ? 'token.cancel' : step.kind === 'check-in' ? 'token.check-in' : 'token.recall';
            res = desk.run({ type, tokenId });
          }
          const { state } = res;
          const cap = state.slot.capacity;
          // Nobody lost or duplicated; version moves by one exactly when something changed.
          expect(state.tokens.map((t) => t.id)).toEqual(issued);
          expect(state.slot.version).toBe(before.slot.version + (res.state === before ? 0 : 1));
          // A waitlist only while full.
          if (state.tokens.some((t) => t.status === 'WAITLISTED')) expect(activeCount(state.tokens)).toBeGreaterThanOrEqual(cap);
          // Over capacity only by tokens a decrease may not move.
          if (nonEmergencyHolding(state) > cap) {
            expect(state.tokens.some((t) => t.source !== 'EMERGENCY' && t.status === 'BOOKED')).toBe(false);
          }
          // A closed slot holds no live token but the CALLED ones.
          if (state.slot.status === 'CLOSED') {
            expect(state.tokens.filter((t) => LIVE_STATUSES.has(t.status) && t.status !== 'CALLED')).toEqual([]);
          }
          // Recalls only ever on tokens that were called.
          for (const t of state.tokens) if (t.recallCount) expect(['CALLED', 'COMPLETED', 'CANCELLED', 'NO_SHOW']).toContain(t.status);
          expect(state.slot.delayMinutes).toBe(delayTotal);
        }
      }),
      { numRuns: 200 },
    );
  });
});
