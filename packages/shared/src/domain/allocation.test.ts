/**
 * Example-based tests of the allocation rules (api-contract.md: Sources, Tokens, Book, View,
 * Cancel, Day flow). One describe per rule; the property tests live in allocation.property.test.ts.
 */
import type { ErrorCode } from '../errors';
import type { OnFull, Patient, Source, TokenStatus } from '../schemas/common';
import {
  applyCommand,
  createSlotState,
  findLiveTokenOfPatient,
  promoteWhileRoom,
  type ApplyResult,
} from './allocation';
import { SOURCE_WEIGHT, type DomainCommand, type SlotState, type TokenRecord } from './model';
import { activeCount, buildSlotView } from './queue';

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

const START_MS = Date.parse('2025-03-03T09:00:00.000Z');
const SLOT_MINUTES = 180;
const at = (minute: number): string => new Date(START_MS + minute * 60_000).toISOString();
const SLOT_END = at(SLOT_MINUTES);

const ALL_SOURCES: Source[] = ['EMERGENCY', 'PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN'];
const NON_EMERGENCY: Source[] = ['PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN'];
const ALL_STATUSES: TokenStatus[] = ['BOOKED', 'WAITLISTED', 'CHECKED_IN', 'CALLED', 'COMPLETED', 'CANCELLED', 'NO_SHOW'];

/** Freezes the whole state so that any in-place mutation by the (pure) domain code throws. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

interface BookOptions {
  onFull?: OnFull;
  patient?: Patient;
  tokenId?: string;
  now?: string;
}

/** One slot and a clock that moves one minute per command unless told otherwise. */
class Desk {
  state: SlotState;
  minute = 0;
  private seq = 0;

  constructor(capacity: number) {
    this.state = createSlotState({
      id: 'slot-1',
      doctorId: 'doc-1',
      branchId: 'branch-1',
      start: at(0),
      end: SLOT_END,
      capacity,
    });
  }

  tick(): string {
    this.minute += 1;
    return at(this.minute);
  }

  apply(command: DomainCommand, now: string = this.tick()): ApplyResult {
    const result = applyCommand(deepFreeze(this.state), command, { now });
    this.state = result.state;
    return result;
  }

  book(source: Source, opts: BookOptions = {}): ApplyResult {
    this.seq += 1;
    return this.apply(
      {
        type: 'token.book',
        tokenId: opts.tokenId ?? `tok-${this.seq}`,
        source,
        patient: opts.patient ?? { name: `Patient ${this.seq}`, mrn: `MRN-${this.seq}` },
        onFull: opts.onFull ?? 'reject',
      },
      opts.now,
    );
  }

  /** Books and returns the new token's id, failing the test if the booking was refused. */
  issue(source: Source, opts: BookOptions = {}): string {
    const out = okOf(this.book(source, opts));
    expect(out.httpStatus).toBe(201);
    return out.tokenId;
  }

  cancel(tokenId: string, reason?: string): ApplyResult {
    return this.apply({ type: 'token.cancel', tokenId, ...(reason ? { reason } : {}) });
  }
  noShow(tokenId: string): ApplyResult {
    return this.apply({ type: 'token.no-show', tokenId });
  }
  checkIn(tokenId: string): ApplyResult {
    return this.apply({ type: 'token.check-in', tokenId });
  }
  complete(tokenId: string): ApplyResult {
    return this.apply({ type: 'token.complete', tokenId });
  }
  callNext(): ApplyResult {
    return this.apply({ type: 'slot.call-next' });
  }

  token(id: string): TokenRecord {
    const token = this.state.tokens.find((t) => t.id === id);
    if (!token) throw new Error(`no token ${id}`);
    return token;
  }
  status(id: string): TokenStatus {
    return this.token(id).status;
  }
  view() {
    return buildSlotView(this.state);
  }
  queueIds(): string[] {
    return this.view().queue.map((t) => t.id);
  }
  waitlistIds(): string[] {
    return this.view().waitlist.map((t) => t.id);
  }
}

function okOf(result: ApplyResult) {
  const { outcome } = result;
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.code}: ${outcome.message}`);
  return outcome;
}

function failOf(result: ApplyResult, code: ErrorCode) {
  const { outcome } = result;
  if (outcome.ok) throw new Error(`expected ${code}, got success for ${outcome.tokenId}`);
  expect(outcome.code).toBe(code);
  expect(outcome.message.length).toBeGreaterThan(0);
  return outcome;
}

/** Applies a command expected to change nothing and checks that it really did not. */
function expectNoChange(desk: Desk, run: () => ApplyResult): ApplyResult {
  const before = structuredClone(desk.state);
  const result = run();
  expect(result.state).toEqual(before);
  expect(result.changedTokenIds).toEqual([]);
  return result;
}

/** A desk with one token `id` in the wanted status (capacity 1, plus a filler for WAITLISTED). */
function deskWithTokenIn(status: TokenStatus): { desk: Desk; id: string } {
  const desk = new Desk(1);
  if (status === 'WAITLISTED') {
    desk.issue('ONLINE');
    const id = desk.issue('ONLINE', { onFull: 'waitlist' });
    return { desk, id };
  }
  const id = desk.issue(status === 'BOOKED' || status === 'CANCELLED' || status === 'NO_SHOW' ? 'ONLINE' : 'WALK_IN');
  if (status === 'CALLED' || status === 'COMPLETED') okOf(desk.callNext());
  if (status === 'COMPLETED') okOf(desk.complete(id));
  if (status === 'CANCELLED') okOf(desk.cancel(id));
  if (status === 'NO_SHOW') okOf(desk.noShow(id));
  expect(desk.status(id)).toBe(status);
  return { desk, id };
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

describe('createSlotState', () => {
  it('opens an empty slot at version 1 whose first token will be number 1', () => {
    const desk = new Desk(3);
    expect(desk.state.slot).toMatchObject({ status: 'OPEN', version: 1, nextNumber: 1, capacity: 3 });
    expect(desk.state.tokens).toEqual([]);
    expect(desk.view().slot).toMatchObject({ activeCount: 0, available: 3 });
  });
});

describe('weights per source', () => {
  it('has the contract weights EMERGENCY 1 < PAID_PRIORITY 2 < FOLLOW_UP 3 < ONLINE 4 < WALK_IN 5', () => {
    expect(SOURCE_WEIGHT).toEqual({ EMERGENCY: 1, PAID_PRIORITY: 2, FOLLOW_UP: 3, ONLINE: 4, WALK_IN: 5 });
  });

  it.each(ALL_SOURCES)('a %s token carries its source and weight', (source) => {
    const desk = new Desk(5);
    const id = desk.issue(source);
    expect(desk.token(id)).toMatchObject({ source, weight: SOURCE_WEIGHT[source] });
    expect(desk.view().queue[0]).toMatchObject({ id, source, weight: SOURCE_WEIGHT[source] });
  });

  it('serves lower weights first whatever the order of booking', () => {
    const desk = new Desk(5);
    for (const source of ['WALK_IN', 'ONLINE', 'FOLLOW_UP', 'PAID_PRIORITY', 'EMERGENCY'] as Source[]) desk.issue(source);
    expect(desk.view().queue.map((t) => t.source)).toEqual(ALL_SOURCES);
  });

  it('keeps arrival order among equal weights', () => {
    const desk = new Desk(5);
    const a = desk.issue('ONLINE');
    const b = desk.issue('WALK_IN');
    const c = desk.issue('ONLINE');
    const d = desk.issue('ONLINE');
    expect(desk.queueIds()).toEqual([a, c, d, b]);
  });

  it('breaks a tie of weight and arrival time by token number', () => {
    const desk = new Desk(5);
    const now = at(5);
    const a = desk.issue('FOLLOW_UP', { now });
    const b = desk.issue('FOLLOW_UP', { now });
    const c = desk.issue('FOLLOW_UP', { now });
    expect(desk.queueIds()).toEqual([a, b, c]);
  });
});

describe('capacity: non-emergency bookings never exceed it', () => {
  it.each(NON_EMERGENCY)('rejects a %s booking once capacity is reached', (source) => {
    const desk = new Desk(3);
    desk.issue('ONLINE');
    desk.issue('FOLLOW_UP');
    desk.issue('WALK_IN');
    expect(desk.view().slot).toMatchObject({ capacity: 3, activeCount: 3, available: 0 });
    const out = failOf(expectNoChange(desk, () => desk.book(source)), 'SLOT_FULL');
    expect(out.details).toMatchObject({ slotId: 'slot-1' });
  });

  it('fills exactly to capacity with any mix of non-emergency sources', () => {
    for (let capacity = 1; capacity <= 6; capacity += 1) {
      const desk = new Desk(capacity);
      let accepted = 0;
      for (let i = 0; i < capacity + 4; i += 1) {
        if (desk.book(NON_EMERGENCY[i % NON_EMERGENCY.length]).outcome.ok) accepted += 1;
      }
      expect(accepted).toBe(capacity);
      expect(activeCount(desk.state.tokens)).toBe(capacity);
    }
  });

  it('counts emergencies against capacity: emergencies that fill the slot leave no room for others', () => {
    const desk = new Desk(2);
    desk.issue('EMERGENCY');
    desk.issue('EMERGENCY');
    failOf(desk.book('PAID_PRIORITY'), 'SLOT_FULL');
    expect(desk.view().slot.available).toBe(0);
  });

  it('a slot over capacity by emergencies still refuses non-emergency bookings', () => {
    const desk = new Desk(1);
    desk.issue('ONLINE');
    desk.issue('EMERGENCY');
    desk.issue('EMERGENCY');
    expect(desk.view().slot).toMatchObject({ activeCount: 3, available: 0 });
    for (const source of NON_EMERGENCY) failOf(desk.book(source), 'SLOT_FULL');
  });

  it('completed tokens keep holding their place: a completed visit does not reopen capacity', () => {
    const desk = new Desk(1);
    const id = desk.issue('WALK_IN');
    okOf(desk.callNext());
    okOf(desk.complete(id));
    failOf(desk.book('ONLINE'), 'SLOT_FULL');
  });
});

describe('emergency: elastic insert', () => {
  function fullDesk() {
    const desk = new Desk(2);
    const online = desk.issue('ONLINE');
    const walkIn = desk.issue('WALK_IN');
    return { desk, online, walkIn };
  }

  it('is accepted in a full slot, even with onFull "reject", checked in and marked overCapacity', () => {
    const { desk } = fullDesk();
    const res = desk.book('EMERGENCY', { onFull: 'reject' });
    const out = okOf(res);
    expect(out.httpStatus).toBe(201);
    expect(out.promotedIds).toEqual([]);
    expect(res.changedTokenIds).toEqual([out.tokenId]);
    expect(desk.token(out.tokenId)).toMatchObject({ status: 'CHECKED_IN', overCapacity: true, weight: 1 });
    expect(desk.view().slot).toMatchObject({ capacity: 2, activeCount: 3, available: 0 });
  });

  it('is not overCapacity when the slot had room, even if it fills the slot', () => {
    const desk = new Desk(2);
    desk.issue('ONLINE');
    const id = desk.issue('EMERGENCY');
    expect(desk.token(id)).toMatchObject({ status: 'CHECKED_IN', overCapacity: false });
    expect(desk.view().slot.available).toBe(0);
  });

  it('non-emergency tokens are never overCapacity', () => {
    const desk = new Desk(1);
    desk.issue('ONLINE');
    const w = desk.issue('PAID_PRIORITY', { onFull: 'waitlist' });
    expect(desk.state.tokens.map((t) => t.overCapacity)).toEqual([false, false]);
    expect(desk.token(w).status).toBe('WAITLISTED');
  });

  it('goes to the top of the queue, behind earlier emergencies', () => {
    const { desk, online, walkIn } = fullDesk();
    const e1 = desk.issue('EMERGENCY');
    const e2 = desk.issue('EMERGENCY');
    expect(desk.queueIds()).toEqual([e1, e2, online, walkIn]);
    expect(desk.view().queue.map((t) => t.position)).toEqual([1, 2, 3, 4]);
    // The earlier emergency is called first; the next one after it.
    expect(okOf(desk.callNext()).tokenId).toBe(e1);
    expect(okOf(desk.callNext()).tokenId).toBe(e2);
  });

  it('removes and moves nobody: earlier tokens keep status, number and relative order', () => {
    const desk = new Desk(3);
    const ids = [desk.issue('ONLINE'), desk.issue('PAID_PRIORITY'), desk.issue('WALK_IN')];
    const waiting = desk.issue('FOLLOW_UP', { onFull: 'waitlist' });
    const before = structuredClone(desk.state.tokens);
    const queueBefore = desk.queueIds();
    const e = desk.issue('EMERGENCY');
    expect(desk.state.tokens.slice(0, before.length)).toEqual(before);
    expect(desk.queueIds()).toEqual([e, ...queueBefore]);
    expect(desk.waitlistIds()).toEqual([waiting]);
    expect(ids.every((id) => desk.status(id) !== 'CANCELLED')).toBe(true);
  });

  it('is accepted any number of times over capacity', () => {
    const desk = new Desk(1);
    desk.issue('ONLINE');
    for (let i = 0; i < 5; i += 1) expect(desk.token(desk.issue('EMERGENCY')).overCapacity).toBe(true);
    expect(desk.view().slot.activeCount).toBe(6);
  });
});

describe('initial status of a new token', () => {
  it.each([
    ['EMERGENCY', 'CHECKED_IN'],
    ['WALK_IN', 'CHECKED_IN'],
    ['PAID_PRIORITY', 'BOOKED'],
    ['FOLLOW_UP', 'BOOKED'],
    ['ONLINE', 'BOOKED'],
  ] as [Source, TokenStatus][])('%s starts %s', (source, status) => {
    const desk = new Desk(1);
    const id = desk.issue(source);
    expect(desk.token(id)).toMatchObject({
      status,
      number: 1,
      slotId: 'slot-1',
      createdAt: at(1),
      arrivalAt: at(1),
      updatedAt: at(1),
    });
  });

  it.each(NON_EMERGENCY)('a waitlisted %s starts WAITLISTED (walk-ins too)', (source) => {
    const desk = new Desk(1);
    desk.issue('ONLINE');
    expect(desk.token(desk.issue(source, { onFull: 'waitlist' })).status).toBe('WAITLISTED');
  });
});

describe('onFull policy of a non-emergency booking in a full slot', () => {
  it('defaults to reject in the domain: SLOT_FULL with details.slotId, nothing issued', () => {
    const desk = new Desk(1);
    desk.issue('ONLINE');
    const out = failOf(expectNoChange(desk, () => desk.book('ONLINE', { onFull: 'reject' })), 'SLOT_FULL');
    expect(out.details).toMatchObject({ slotId: 'slot-1' });
  });

  it('"next-slot" is SLOT_FULL here (moving to another slot is the caller\'s job)', () => {
    const desk = new Desk(1);
    desk.issue('ONLINE');
    const out = failOf(expectNoChange(desk, () => desk.book('ONLINE', { onFull: 'next-slot' })), 'SLOT_FULL');
    expect(out.details).toMatchObject({ slotId: 'slot-1', onFull: 'next-slot' });
  });

  it('"waitlist" issues a WAITLISTED token (201) with a number, holding no capacity', () => {
    const desk = new Desk(1);
    desk.issue('ONLINE');
    const res = desk.book('ONLINE', { onFull: 'waitlist' });
    const out = okOf(res);
    expect(out.httpStatus).toBe(201);
    expect(res.changedTokenIds).toEqual([out.tokenId]);
    expect(desk.token(out.tokenId)).toMatchObject({ status: 'WAITLISTED', number: 2, overCapacity: false });
    expect(desk.view().slot).toMatchObject({ activeCount: 1, available: 0 });
  });

  it('"waitlist" with room simply books', () => {
    const desk = new Desk(2);
    const id = desk.issue('ONLINE', { onFull: 'waitlist' });
    expect(desk.status(id)).toBe('BOOKED');
  });

  it('the waitlist has its own positions, ordered by weight then arrival', () => {
    const desk = new Desk(1);
    const booked = desk.issue('ONLINE');
    const w1 = desk.issue('WALK_IN', { onFull: 'waitlist' });
    const w2 = desk.issue('ONLINE', { onFull: 'waitlist' });
    const w3 = desk.issue('PAID_PRIORITY', { onFull: 'waitlist' });
    const w4 = desk.issue('ONLINE', { onFull: 'waitlist' });
    const view = desk.view();
    expect(view.waitlist.map((t) => [t.id, t.position])).toEqual([
      [w3, 1],
      [w2, 2],
      [w4, 3],
      [w1, 4],
    ]);
    expect(view.queue.map((t) => [t.id, t.position])).toEqual([[booked, 1]]);
  });
});

describe('duplicate patient among live tokens', () => {
  it('same mrn (even with another phone and name) -> DUPLICATE_BOOKING with details.tokenId', () => {
    const desk = new Desk(5);
    const first = desk.issue('ONLINE', { patient: { name: 'Asha', mrn: 'M1', phone: '111' } });
    const out = failOf(
      expectNoChange(desk, () => desk.book('FOLLOW_UP', { patient: { name: 'A. Rao', mrn: 'M1', phone: '999' } })),
      'DUPLICATE_BOOKING',
    );
    expect(out.details).toEqual({ tokenId: first });
  });

  it('without mrn, the same phone -> DUPLICATE_BOOKING', () => {
    const desk = new Desk(5);
    const first = desk.issue('ONLINE', { patient: { name: 'Asha', phone: '111' } });
    const out = failOf(desk.book('WALK_IN', { patient: { name: 'Other', phone: '111' } }), 'DUPLICATE_BOOKING');
    expect(out.details).toEqual({ tokenId: first });
  });

  it('without mrn, the same phone matches an existing token that has an mrn', () => {
    const desk = new Desk(5);
    const first = desk.issue('ONLINE', { patient: { name: 'Asha', phone: '111', mrn: 'M1' } });
    expect(failOf(desk.book('ONLINE', { patient: { name: 'Asha', phone: '111' } }), 'DUPLICATE_BOOKING').details).toEqual({
      tokenId: first,
    });
  });

  it('when the booking has an mrn, the phone is not compared: a different mrn with the same phone is another patient', () => {
    const desk = new Desk(5);
    desk.issue('ONLINE', { patient: { name: 'Mother', mrn: 'M1', phone: '111' } });
    const child = desk.issue('ONLINE', { patient: { name: 'Child', mrn: 'M2', phone: '111' } });
    expect(desk.status(child)).toBe('BOOKED');
  });

  it('patients with neither mrn nor phone are never duplicates', () => {
    const desk = new Desk(5);
    desk.issue('WALK_IN', { patient: { name: 'Anonymous' } });
    desk.issue('WALK_IN', { patient: { name: 'Anonymous' } });
    expect(desk.state.tokens).toHaveLength(2);
  });

  it.each(['BOOKED', 'WAITLISTED', 'CHECKED_IN', 'CALLED'] as TokenStatus[])(
    'a %s token is live and blocks a second booking',
    (status) => {
      const { desk, id } = deskWithTokenIn(status);
      const patient = desk.token(id).patient;
      // Capacity 1 is used: an emergency bypasses capacity, so the only possible refusal is the duplicate.
      const out = failOf(expectNoChange(desk, () => desk.book('EMERGENCY', { patient })), 'DUPLICATE_BOOKING');
      expect(out.details).toEqual({ tokenId: id });
    },
  );

  it.each(['CANCELLED', 'NO_SHOW', 'COMPLETED'] as TokenStatus[])(
    'a %s token is not live: the same patient may book again',
    (status) => {
      const { desk, id } = deskWithTokenIn(status);
      const patient = desk.token(id).patient;
      const again = desk.issue('EMERGENCY', { patient });
      expect(again).not.toBe(id);
      expect(desk.token(again).patient).toEqual(patient);
    },
  );

  it('a cancelled patient books again and gets a new number', () => {
    const desk = new Desk(2);
    const patient = { name: 'Asha', mrn: 'M1' };
    const first = desk.issue('ONLINE', { patient });
    okOf(desk.cancel(first));
    const second = desk.issue('ONLINE', { patient });
    expect(desk.token(second).number).toBe(2);
    expect(desk.status(first)).toBe('CANCELLED');
  });

  it('the duplicate check runs before capacity: a duplicate in a full slot is DUPLICATE_BOOKING', () => {
    const desk = new Desk(1);
    const first = desk.issue('ONLINE', { patient: { name: 'Asha', mrn: 'M1' } });
    failOf(desk.book('ONLINE', { patient: { name: 'Asha', mrn: 'M1' } }), 'DUPLICATE_BOOKING');
    expect(desk.status(first)).toBe('BOOKED');
  });

  describe('findLiveTokenOfPatient', () => {
    const token = (id: string, status: TokenStatus, patient: Patient): TokenRecord => ({
      id,
      slotId: 's',
      number: 1,
      source: 'ONLINE',
      weight: 4,
      status,
      overCapacity: false,
      patient,
      createdAt: at(0),
      arrivalAt: at(0),
      updatedAt: at(0),
    });
    const tokens = [
      token('dead', 'CANCELLED', { name: 'x', mrn: 'M1', phone: '111' }),
      token('live', 'BOOKED', { name: 'x', mrn: 'M1', phone: '111' }),
      token('phone-only', 'CHECKED_IN', { name: 'y', phone: '222' }),
    ];

    it('skips tokens that are not live and finds the live one', () => {
      expect(findLiveTokenOfPatient(tokens, { name: 'z', mrn: 'M1' })?.id).toBe('live');
    });
    it('matches by phone only when the patient has no mrn', () => {
      expect(findLiveTokenOfPatient(tokens, { name: 'z', phone: '222' })?.id).toBe('phone-only');
      expect(findLiveTokenOfPatient(tokens, { name: 'z', phone: '222', mrn: 'OTHER' })).toBeUndefined();
    });
    it('finds nothing for a patient without mrn and phone, or for an unknown patient', () => {
      expect(findLiveTokenOfPatient(tokens, { name: 'x' })).toBeUndefined();
      expect(findLiveTokenOfPatient(tokens, { name: 'x', mrn: 'M9', phone: '999' })).toBeUndefined();
    });
  });
});

describe('replay of the same tokenId (idempotency)', () => {
  it('returns 200 with the same token and changes nothing', () => {
    const desk = new Desk(3);
    const id = desk.issue('ONLINE', { tokenId: 'req-1', patient: { name: 'Asha', mrn: 'M1' } });
    const res = expectNoChange(desk, () => desk.book('ONLINE', { tokenId: 'req-1', patient: { name: 'Asha', mrn: 'M1' } }));
    expect(res.outcome).toEqual({ ok: true, httpStatus: 200, tokenId: id, promotedIds: [] });
    expect(desk.state.tokens).toHaveLength(1);
    expect(desk.state.slot.version).toBe(2);
  });

  it('wins over SLOT_FULL, DUPLICATE_BOOKING and SLOT_CLOSED (the first decision stands)', () => {
    const desk = new Desk(1);
    desk.issue('ONLINE', { tokenId: 'req-1', patient: { name: 'Asha', mrn: 'M1' } });
    // Full slot, same patient, and after the slot end: a fresh id would be refused three ways.
    const res = expectNoChange(desk, () =>
      desk.book('ONLINE', { tokenId: 'req-1', patient: { name: 'Asha', mrn: 'M1' }, now: SLOT_END }),
    );
    expect(okOf(res)).toMatchObject({ httpStatus: 200, tokenId: 'req-1' });
  });

  it('returns the token as it is now, even if it was cancelled since', () => {
    const desk = new Desk(2);
    const id = desk.issue('ONLINE', { tokenId: 'req-1' });
    okOf(desk.cancel(id));
    const res = expectNoChange(desk, () => desk.book('ONLINE', { tokenId: 'req-1' }));
    expect(okOf(res)).toMatchObject({ httpStatus: 200, tokenId: id });
    expect(desk.status(id)).toBe('CANCELLED');
  });

  it('replays a waitlisted booking as 200 without promoting or re-waitlisting', () => {
    const desk = new Desk(1);
    desk.issue('ONLINE');
    const w = desk.issue('ONLINE', { tokenId: 'req-w', onFull: 'waitlist' });
    const res = expectNoChange(desk, () => desk.book('ONLINE', { tokenId: 'req-w', onFull: 'waitlist' }));
    expect(okOf(res)).toMatchObject({ httpStatus: 200, tokenId: w });
  });
});

describe('closed and ended slots', () => {
  it('a CLOSED slot refuses bookings of every source with SLOT_CLOSED (details.slotId)', () => {
    const desk = new Desk(3);
    desk.state = { ...desk.state, slot: { ...desk.state.slot, status: 'CLOSED' } };
    for (const source of ALL_SOURCES) {
      const out = failOf(expectNoChange(desk, () => desk.book(source)), 'SLOT_CLOSED');
      expect(out.details).toMatchObject({ slotId: 'slot-1' });
    }
  });

  it('an ended slot (now >= end) refuses bookings, emergencies included', () => {
    const desk = new Desk(3);
    for (const source of ALL_SOURCES) failOf(expectNoChange(desk, () => desk.book(source, { now: SLOT_END })), 'SLOT_CLOSED');
    const later = new Date(Date.parse(SLOT_END) + 3_600_000).toISOString();
    failOf(desk.book('ONLINE', { now: later }), 'SLOT_CLOSED');
  });

  it('one millisecond before the end is still open', () => {
    const desk = new Desk(3);
    const id = desk.issue('ONLINE', { now: new Date(Date.parse(SLOT_END) - 1).toISOString() });
    expect(desk.status(id)).toBe('BOOKED');
  });

  it('compares instants, not strings: an end given with an offset is honoured', () => {
    const desk = new Desk(3);
    // 09:00+05:30 is 03:30Z, before the slot start: open. SLOT_END in +05:30 is refused.
    desk.state = { ...desk.state, slot: { ...desk.state.slot, end: '2025-03-03T17:30:00.000+05:30' } };
    expect(okOf(desk.book('ONLINE', { now: '2025-03-03T11:59:59.999Z' })).httpStatus).toBe(201);
    failOf(desk.book('ONLINE', { now: '2025-03-03T12:00:00.000Z' }), 'SLOT_CLOSED');
  });

  it('SLOT_CLOSED is decided before duplicates and capacity', () => {
    const desk = new Desk(1);
    desk.issue('ONLINE', { patient: { name: 'Asha', mrn: 'M1' } });
    failOf(desk.book('ONLINE', { patient: { name: 'Asha', mrn: 'M1' }, now: SLOT_END }), 'SLOT_CLOSED');
  });

  it('the day flow goes on after the end: check-in, call, complete, cancel still work', () => {
    const desk = new Desk(3);
    const a = desk.issue('ONLINE');
    const b = desk.issue('ONLINE');
    const late = at(SLOT_MINUTES + 30);
    okOf(desk.apply({ type: 'token.check-in', tokenId: a }, late));
    okOf(desk.apply({ type: 'slot.call-next' }, late));
    okOf(desk.apply({ type: 'token.complete', tokenId: a }, late));
    okOf(desk.apply({ type: 'token.cancel', tokenId: b }, late));
    expect([desk.status(a), desk.status(b)]).toEqual(['COMPLETED', 'CANCELLED']);
  });
});

describe('token numbers: 1..n in issue order, never reused', () => {
  it('numbers tokens 1, 2, 3... across sources and waitlist', () => {
    const desk = new Desk(2);
    const ids = [
      desk.issue('WALK_IN'),
      desk.issue('EMERGENCY'),
      desk.issue('EMERGENCY'),
      desk.issue('ONLINE', { onFull: 'waitlist' }),
      desk.issue('FOLLOW_UP', { onFull: 'waitlist' }),
    ];
    expect(ids.map((id) => desk.token(id).number)).toEqual([1, 2, 3, 4, 5]);
    expect(desk.state.slot.nextNumber).toBe(6);
  });

  it('does not reuse the numbers of cancelled or no-show tokens', () => {
    const desk = new Desk(3);
    const a = desk.issue('ONLINE');
    const b = desk.issue('ONLINE');
    const c = desk.issue('ONLINE');
    okOf(desk.cancel(c));
    okOf(desk.noShow(b));
    okOf(desk.cancel(a));
    const d = desk.issue('ONLINE');
    expect(desk.token(d).number).toBe(4);
  });

  it('refused bookings consume no number', () => {
    const desk = new Desk(1);
    desk.issue('ONLINE', { patient: { name: 'Asha', mrn: 'M1' } });
    failOf(desk.book('ONLINE'), 'SLOT_FULL');
    failOf(desk.book('EMERGENCY', { patient: { name: 'Asha', mrn: 'M1' } }), 'DUPLICATE_BOOKING');
    failOf(desk.book('EMERGENCY', { now: SLOT_END }), 'SLOT_CLOSED');
    okOf(desk.book('ONLINE', { tokenId: 'tok-1' })); // replay
    const e = desk.issue('EMERGENCY');
    expect(desk.token(e).number).toBe(2);
    expect(desk.state.tokens.map((t) => t.number)).toEqual([1, 2]);
  });
});

describe('cancel: frees capacity and promotes the best waitlisted token', () => {
  function fullWithWaitlist() {
    const desk = new Desk(2);
    const b1 = desk.issue('ONLINE');
    const b2 = desk.issue('FOLLOW_UP');
    const wOnline1 = desk.issue('ONLINE', { onFull: 'waitlist' });
    const wWalkIn = desk.issue('WALK_IN', { onFull: 'waitlist' });
    const wPaid = desk.issue('PAID_PRIORITY', { onFull: 'waitlist' });
    const wOnline2 = desk.issue('ONLINE', { onFull: 'waitlist' });
    return { desk, b1, b2, wOnline1, wWalkIn, wPaid, wOnline2 };
  }

  it('promotes by weight first, then by arrival, one per freed place', () => {
    const { desk, b1, b2, wOnline1, wWalkIn, wPaid, wOnline2 } = fullWithWaitlist();

    const r1 = desk.cancel(b1, 'patient called');
    expect(okOf(r1)).toEqual({ ok: true, httpStatus: 200, tokenId: b1, promotedIds: [wPaid] });
    expect(r1.changedTokenIds).toEqual([b1, wPaid]);
    expect(desk.token(b1)).toMatchObject({ status: 'CANCELLED', cancelReason: 'patient called' });
    expect(desk.token(wPaid)).toMatchObject({ status: 'BOOKED', updatedAt: at(desk.minute) });

    expect(okOf(desk.cancel(b2)).promotedIds).toEqual([wOnline1]);
    expect(okOf(desk.cancel(wPaid)).promotedIds).toEqual([wOnline2]);
    expect(okOf(desk.cancel(wOnline1)).promotedIds).toEqual([wWalkIn]);
    expect(desk.view().waitlist).toEqual([]);
    expect(desk.view().slot).toMatchObject({ activeCount: 2, available: 0 });
  });

  it('a promoted token keeps its number and arrival, and takes its place in the queue by weight', () => {
    const { desk, b1, b2, wPaid } = fullWithWaitlist();
    const before = desk.token(wPaid);
    okOf(desk.cancel(b2));
    expect(desk.token(wPaid)).toMatchObject({ number: before.number, arrivalAt: before.arrivalAt, createdAt: before.createdAt });
    expect(desk.queueIds()).toEqual([wPaid, b1]);
  });

  it('a promoted walk-in becomes BOOKED (not CHECKED_IN) as the contract says', () => {
    const desk = new Desk(1);
    const b = desk.issue('ONLINE');
    const w = desk.issue('WALK_IN', { onFull: 'waitlist' });
    expect(okOf(desk.cancel(b)).promotedIds).toEqual([w]);
    expect(desk.status(w)).toBe('BOOKED');
  });

  it('without a waitlist the freed place becomes available', () => {
    const desk = new Desk(2);
    const a = desk.issue('ONLINE');
    desk.issue('ONLINE');
    const res = desk.cancel(a);
    expect(okOf(res).promotedIds).toEqual([]);
    expect(res.changedTokenIds).toEqual([a]);
    expect(desk.view().slot).toMatchObject({ activeCount: 1, available: 1 });
    expect(desk.issue('ONLINE')).toBeDefined();
  });

  it('cancelling a waitlisted token frees nothing and renumbers the waitlist', () => {
    const { desk, b1, b2, wOnline1, wWalkIn, wPaid, wOnline2 } = fullWithWaitlist();
    const res = desk.cancel(wPaid);
    expect(okOf(res).promotedIds).toEqual([]);
    expect(res.changedTokenIds).toEqual([wPaid]);
    expect([desk.status(b1), desk.status(b2)]).toEqual(['BOOKED', 'BOOKED']);
    expect(desk.view().waitlist.map((t) => [t.id, t.position])).toEqual([
      [wOnline1, 1],
      [wOnline2, 2],
      [wWalkIn, 3],
    ]);
    expect(desk.view().tokens.find((t) => t.id === wPaid)?.position).toBeNull();
  });

  it.each(['BOOKED', 'CHECKED_IN', 'CALLED'] as TokenStatus[])('a %s token can be cancelled and frees its place', (status) => {
    const { desk, id } = deskWithTokenIn(status);
    const w = desk.issue('ONLINE', { onFull: 'waitlist' });
    expect(okOf(desk.cancel(id)).promotedIds).toEqual([w]);
    expect(desk.status(id)).toBe('CANCELLED');
    expect(desk.view().nowServing).toEqual([]);
  });

  it('does not record a reason when none is given', () => {
    const desk = new Desk(1);
    const id = desk.issue('ONLINE');
    okOf(desk.cancel(id));
    expect(desk.token(id)).not.toHaveProperty('cancelReason');
  });
});

describe('emergency overflow keeps the slot full', () => {
  it('promotes nobody until activeCount < capacity', () => {
    const desk = new Desk(2);
    const a = desk.issue('ONLINE');
    const b = desk.issue('ONLINE');
    const e = desk.issue('EMERGENCY');
    const w = desk.issue('ONLINE', { onFull: 'waitlist' });
    expect(desk.view().slot.activeCount).toBe(3);

    // 3 -> 2 active: still full.
    expect(okOf(desk.cancel(a)).promotedIds).toEqual([]);
    expect(desk.status(w)).toBe('WAITLISTED');
    expect(desk.view().slot).toMatchObject({ activeCount: 2, available: 0 });
    failOf(desk.book('ONLINE'), 'SLOT_FULL');

    // 2 -> 1 active: room for one.
    expect(okOf(desk.noShow(e)).promotedIds).toEqual([w]);
    expect(desk.status(w)).toBe('BOOKED');
    expect(desk.view().slot).toMatchObject({ activeCount: 2, available: 0 });
    expect(desk.status(b)).toBe('BOOKED');
  });
});

describe('promoteWhileRoom', () => {
  const record = (id: string, number: number, status: TokenStatus, source: Source, minute: number): TokenRecord => ({
    id,
    slotId: 'slot-1',
    number,
    source,
    weight: SOURCE_WEIGHT[source],
    status,
    overCapacity: false,
    patient: { name: id },
    createdAt: at(minute),
    arrivalAt: at(minute),
    updatedAt: at(minute),
  });
  const stateWith = (capacity: number, tokens: TokenRecord[]): SlotState => {
    const s = createSlotState({ id: 'slot-1', doctorId: 'd', branchId: 'b', start: at(0), end: SLOT_END, capacity });
    return { slot: { ...s.slot, nextNumber: tokens.length + 1 }, tokens };
  };

  it('fills every free place in queue order and stops at capacity', () => {
    const state = deepFreeze(
      stateWith(3, [
        record('held', 1, 'CALLED', 'ONLINE', 1),
        record('w-walk', 2, 'WAITLISTED', 'WALK_IN', 2),
        record('w-online-late', 3, 'WAITLISTED', 'ONLINE', 4),
        record('w-online-early', 4, 'WAITLISTED', 'ONLINE', 3),
        record('w-follow', 5, 'WAITLISTED', 'FOLLOW_UP', 5),
      ]),
    );
    const { state: next, promotedIds } = promoteWhileRoom(state, { now: at(9) });
    expect(promotedIds).toEqual(['w-follow', 'w-online-early']);
    expect(next.tokens.map((t) => t.status)).toEqual(['CALLED', 'WAITLISTED', 'WAITLISTED', 'BOOKED', 'BOOKED']);
    expect(next.tokens.filter((t) => t.status === 'BOOKED').every((t) => t.updatedAt === at(9))).toBe(true);
    expect(next.slot.version).toBe(state.slot.version); // the caller bumps the version once
  });

  it('does nothing when the slot is full or the waitlist is empty', () => {
    const full = deepFreeze(stateWith(1, [record('a', 1, 'BOOKED', 'ONLINE', 1), record('w', 2, 'WAITLISTED', 'ONLINE', 2)]));
    expect(promoteWhileRoom(full, { now: at(9) })).toEqual({ state: full, promotedIds: [] });
    const empty = deepFreeze(stateWith(3, [record('a', 1, 'BOOKED', 'ONLINE', 1)]));
    expect(promoteWhileRoom(empty, { now: at(9) })).toEqual({ state: empty, promotedIds: [] });
  });
});

describe('transition matrix: which moves are allowed from which status', () => {
  type Move = 'cancel' | 'no-show' | 'check-in' | 'complete';
  const run = (desk: Desk, move: Move, id: string) =>
    move === 'cancel' ? desk.cancel(id) : move === 'no-show' ? desk.noShow(id) : move === 'check-in' ? desk.checkIn(id) : desk.complete(id);
  const allowed: Record<Move, Partial<Record<TokenStatus, TokenStatus>>> = {
    cancel: { BOOKED: 'CANCELLED', WAITLISTED: 'CANCELLED', CHECKED_IN: 'CANCELLED', CALLED: 'CANCELLED' },
    'no-show': { BOOKED: 'NO_SHOW', CHECKED_IN: 'NO_SHOW', CALLED: 'NO_SHOW' },
    'check-in': { BOOKED: 'CHECKED_IN' },
    complete: { CALLED: 'COMPLETED' },
  };
  const cases: [Move, TokenStatus][] = [];
  for (const move of Object.keys(allowed) as Move[]) for (const status of ALL_STATUSES) cases.push([move, status]);

  it.each(cases)('%s from %s', (move, from) => {
    const { desk, id } = deskWithTokenIn(from);
    const version = desk.state.slot.version;
    const to = allowed[move][from];
    if (move === 'cancel' && from === 'CANCELLED') {
      // Idempotent: 200, same state.
      const res = expectNoChange(desk, () => run(desk, move, id));
      expect(res.outcome).toEqual({ ok: true, httpStatus: 200, tokenId: id, promotedIds: [] });
    } else if (to) {
      const res = run(desk, move, id);
      expect(okOf(res)).toMatchObject({ httpStatus: 200, tokenId: id });
      expect(desk.token(id)).toMatchObject({ status: to, updatedAt: at(desk.minute) });
      expect(res.changedTokenIds[0]).toBe(id);
      expect(desk.state.slot.version).toBe(version + 1);
    } else {
      const out = failOf(expectNoChange(desk, () => run(desk, move, id)), 'INVALID_TRANSITION');
      expect(out.details).toMatchObject({ tokenId: id, from });
      expect(desk.state.slot.version).toBe(version);
    }
  });
});

describe('cancel of a final token', () => {
  it.each(['COMPLETED', 'NO_SHOW'] as TokenStatus[])('cancel of a %s token -> INVALID_TRANSITION', (status) => {
    const { desk, id } = deskWithTokenIn(status);
    const out = failOf(expectNoChange(desk, () => desk.cancel(id)), 'INVALID_TRANSITION');
    expect(out.details).toEqual({ tokenId: id, from: status, to: 'CANCELLED' });
  });

  it('cancelling a cancelled token twice is 200 with no change, and promotes nobody', () => {
    const desk = new Desk(1);
    const a = desk.issue('ONLINE');
    okOf(desk.cancel(a, 'first'));
    const w = desk.issue('ONLINE', { onFull: 'waitlist' });
    expect(desk.status(w)).toBe('BOOKED'); // the place was free
    const res = expectNoChange(desk, () => desk.cancel(a, 'second'));
    expect(res.outcome).toEqual({ ok: true, httpStatus: 200, tokenId: a, promotedIds: [] });
    expect(desk.token(a).cancelReason).toBe('first');
  });
});

describe('check-in', () => {
  it('moves BOOKED to CHECKED_IN without changing the queue order', () => {
    const desk = new Desk(3);
    const a = desk.issue('ONLINE');
    const b = desk.issue('ONLINE');
    okOf(desk.checkIn(b));
    expect(desk.status(b)).toBe('CHECKED_IN');
    expect(desk.queueIds()).toEqual([a, b]);
    expect(desk.view().slot.activeCount).toBe(2);
  });

  it('a walk-in is already checked in: a second check-in is INVALID_TRANSITION', () => {
    const desk = new Desk(3);
    const id = desk.issue('WALK_IN');
    expect(failOf(desk.checkIn(id), 'INVALID_TRANSITION').details).toEqual({ tokenId: id, from: 'CHECKED_IN', to: 'CHECKED_IN' });
  });
});

describe('call-next', () => {
  it('calls the first CHECKED_IN token in queue order and puts it in nowServing', () => {
    const desk = new Desk(5);
    const walkIn = desk.issue('WALK_IN');
    const paid = desk.issue('PAID_PRIORITY');
    const follow = desk.issue('FOLLOW_UP');
    okOf(desk.checkIn(follow));
    okOf(desk.checkIn(paid));
    const res = desk.callNext();
    expect(okOf(res)).toEqual({ ok: true, httpStatus: 200, tokenId: paid, promotedIds: [] });
    expect(res.changedTokenIds).toEqual([paid]);
    const view = desk.view();
    expect(view.nowServing.map((t) => [t.id, t.status, t.position])).toEqual([[paid, 'CALLED', null]]);
    expect(view.queue.map((t) => t.id)).toEqual([follow, walkIn]);
    expect(okOf(desk.callNext()).tokenId).toBe(follow);
    expect(okOf(desk.callNext()).tokenId).toBe(walkIn);
    expect(desk.view().nowServing.map((t) => t.id)).toEqual([paid, follow, walkIn]);
  });

  it('skips a BOOKED patient who has not arrived, however high the priority', () => {
    const desk = new Desk(5);
    const paid = desk.issue('PAID_PRIORITY');
    const walkIn = desk.issue('WALK_IN');
    expect(okOf(desk.callNext()).tokenId).toBe(walkIn);
    expect(desk.status(paid)).toBe('BOOKED');
  });

  it('orders equal weights by booking arrival, not by check-in time', () => {
    const desk = new Desk(5);
    const early = desk.issue('ONLINE');
    const late = desk.issue('ONLINE');
    okOf(desk.checkIn(late));
    okOf(desk.checkIn(early));
    expect(okOf(desk.callNext()).tokenId).toBe(early);
  });

  it('NOT_FOUND when nobody present waits (empty slot, only BOOKED, only CALLED/finished)', () => {
    const desk = new Desk(5);
    expect(failOf(expectNoChange(desk, () => desk.callNext()), 'NOT_FOUND').details).toEqual({ slotId: 'slot-1' });
    const booked = desk.issue('ONLINE');
    failOf(expectNoChange(desk, () => desk.callNext()), 'NOT_FOUND');
    okOf(desk.checkIn(booked));
    okOf(desk.callNext());
    failOf(expectNoChange(desk, () => desk.callNext()), 'NOT_FOUND');
    desk.issue('ONLINE', { onFull: 'waitlist' });
    failOf(expectNoChange(desk, () => desk.callNext()), 'NOT_FOUND');
  });

  it('never calls a waitlisted walk-in', () => {
    const desk = new Desk(1);
    desk.issue('ONLINE');
    desk.issue('WALK_IN', { onFull: 'waitlist' });
    failOf(desk.callNext(), 'NOT_FOUND');
  });
});

describe('complete', () => {
  it('moves CALLED to COMPLETED; the token keeps holding capacity and leaves nowServing', () => {
    const desk = new Desk(1);
    const id = desk.issue('EMERGENCY');
    const w = desk.issue('ONLINE', { onFull: 'waitlist' });
    okOf(desk.callNext());
    const res = desk.complete(id);
    expect(okOf(res)).toEqual({ ok: true, httpStatus: 200, tokenId: id, promotedIds: [] });
    expect(desk.status(id)).toBe('COMPLETED');
    expect(desk.status(w)).toBe('WAITLISTED');
    expect(desk.view()).toMatchObject({ nowServing: [], queue: [], slot: { activeCount: 1, available: 0 } });
  });
});

describe('no-show', () => {
  it.each(['BOOKED', 'CHECKED_IN', 'CALLED'] as TokenStatus[])(
    'from %s frees capacity and promotes the best waitlisted token',
    (status) => {
      const { desk, id } = deskWithTokenIn(status);
      const wOnline = desk.issue('ONLINE', { onFull: 'waitlist' });
      const wFollow = desk.issue('FOLLOW_UP', { onFull: 'waitlist' });
      const res = desk.noShow(id);
      expect(okOf(res)).toEqual({ ok: true, httpStatus: 200, tokenId: id, promotedIds: [wFollow] });
      expect(res.changedTokenIds).toEqual([id, wFollow]);
      expect(desk.status(id)).toBe('NO_SHOW');
      expect(desk.status(wFollow)).toBe('BOOKED');
      expect(desk.status(wOnline)).toBe('WAITLISTED');
      expect(desk.view().tokens.find((t) => t.id === id)?.position).toBeNull();
    },
  );
});

describe('unknown token', () => {
  it.each(['token.cancel', 'token.no-show', 'token.check-in', 'token.complete'] as const)(
    '%s of an unknown id -> NOT_FOUND with details.tokenId',
    (type) => {
      const desk = new Desk(2);
      desk.issue('ONLINE');
      const out = failOf(expectNoChange(desk, () => desk.apply({ type, tokenId: 'nope' })), 'NOT_FOUND');
      expect(out.details).toEqual({ tokenId: 'nope' });
    },
  );
});

describe('version', () => {
  it('grows by exactly 1 per state-changing command, whatever it changes', () => {
    const desk = new Desk(1);
    const steps: [string, () => ApplyResult][] = [];
    steps.push(['book walk-in', () => desk.book('WALK_IN', { tokenId: 'a' })]);
    steps.push(['waitlist', () => desk.book('ONLINE', { tokenId: 'w', onFull: 'waitlist' })]);
    steps.push(['emergency over capacity', () => desk.book('EMERGENCY', { tokenId: 'e' })]);
    steps.push(['call-next (emergency)', () => desk.callNext()]);
    steps.push(['no-show without promotion', () => desk.noShow('e')]);
    steps.push(['call-next (walk-in)', () => desk.callNext()]);
    steps.push(['cancel + promote', () => desk.cancel('a')]);
    steps.push(['check-in of promoted', () => desk.checkIn('w')]);
    steps.push(['call-next (promoted)', () => desk.callNext()]);
    steps.push(['complete', () => desk.complete('w')]);
    for (const [name, step] of steps) {
      const version = desk.state.slot.version;
      const res = step();
      expect({ name, ok: res.outcome.ok, version: desk.state.slot.version }).toEqual({ name, ok: true, version: version + 1 });
    }
    expect(desk.state.slot.version).toBe(1 + steps.length);
  });

  it('does not move on failures, replays or repeated cancels', () => {
    const desk = new Desk(2);
    const a = desk.issue('ONLINE', { tokenId: 'a', patient: { name: 'x', mrn: 'M' } });
    const c = desk.issue('EMERGENCY', { tokenId: 'c' });
    okOf(desk.callNext());
    okOf(desk.complete(c));
    okOf(desk.cancel(a));
    const version = desk.state.slot.version;
    expect(version).toBe(6);
    const attempts: (() => ApplyResult)[] = [
      () => desk.book('ONLINE', { tokenId: 'a' }), // replay
      () => desk.cancel(a), // repeated cancel
      () => desk.cancel(c), // COMPLETED -> INVALID_TRANSITION
      () => desk.checkIn(a),
      () => desk.complete(a),
      () => desk.noShow(a),
      () => desk.noShow('missing'),
      () => desk.callNext(),
      () => desk.book('ONLINE', { now: SLOT_END }),
    ];
    for (const attempt of attempts) expectNoChange(desk, attempt);
    desk.issue('ONLINE', { tokenId: 'full' });
    failOf(desk.book('ONLINE'), 'SLOT_FULL');
    failOf(desk.book('ONLINE', { patient: { name: 'y', mrn: 'full' } }), 'SLOT_FULL');
    expect(desk.state.slot.version).toBe(version + 1);
  });
});

describe('activeCount', () => {
  it('counts BOOKED, CHECKED_IN, CALLED and COMPLETED, not WAITLISTED, CANCELLED or NO_SHOW', () => {
    const desk = new Desk(4);
    const booked = desk.issue('ONLINE');
    const checkedIn = desk.issue('WALK_IN');
    const called = desk.issue('EMERGENCY');
    const completed = desk.issue('WALK_IN');
    okOf(desk.callNext()); // the emergency
    okOf(desk.complete(called));
    okOf(desk.callNext()); // checkedIn (walk-in, arrived first)
    const waitlisted = desk.issue('ONLINE', { onFull: 'waitlist' });
    expect(desk.view().slot).toMatchObject({ activeCount: 4, available: 0 });
    expect(activeCount(desk.state.tokens)).toBe(4);
    expect([desk.status(booked), desk.status(checkedIn), desk.status(called), desk.status(completed), desk.status(waitlisted)]).toEqual([
      'BOOKED',
      'CALLED',
      'COMPLETED',
      'CHECKED_IN',
      'WAITLISTED',
    ]);
    // Cancelling and no-showing without a waitlist lowers the count.
    okOf(desk.cancel(waitlisted));
    okOf(desk.cancel(booked));
    okOf(desk.noShow(completed));
    expect(desk.view().slot).toMatchObject({ activeCount: 2, available: 2 });
  });
});
