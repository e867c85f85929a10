/**
 * The prioritized view of a slot (api-contract.md: View, Tokens), built from hand-made states so
 * that it is checked independently of the allocation rules.
 */
import type { Source, TokenStatus } from '../schemas/common';
import { SOURCE_WEIGHT, type SlotState, type TokenRecord } from './model';
import { activeCount, buildSlotView, compareQueueOrder, findPublicToken, publicTokens, toPublicSlot, toPublicToken } from './queue';
import { applyCommand, createSlotState } from './allocation';

const at = (minute: number): string => new Date(Date.parse('2025-03-03T09:00:00.000Z') + minute * 60_000).toISOString();

let nextNumber = 1;
function token(status: TokenStatus, source: Source, arrivalMinute: number, extra: Partial<TokenRecord> = {}): TokenRecord {
  const number = nextNumber++;
  return {
    id: `t${number}`,
    slotId: 'slot-1',
    number,
    source,
    weight: SOURCE_WEIGHT[source],
    status,
    overCapacity: false,
    patient: { name: `P${number}`, mrn: `M${number}` },
    createdAt: at(arrivalMinute),
    arrivalAt: at(arrivalMinute),
    updatedAt: at(arrivalMinute),
    ...extra,
  };
}

function slotState(capacity: number, tokens: TokenRecord[], version = 7): SlotState {
  return Object.freeze({
    slot: {
      id: 'slot-1',
      doctorId: 'doc-1',
      branchId: 'branch-1',
      start: at(0),
      end: at(180),
      capacity,
      status: 'OPEN',
      version,
      nextNumber: tokens.length + 1,
    },
    tokens,
  }) as SlotState;
}

beforeEach(() => {
  nextNumber = 1;
});

describe('compareQueueOrder', () => {
  it('orders by weight first, whatever the arrival and number', () => {
    const late = token('BOOKED', 'PAID_PRIORITY', 50);
    const early = token('BOOKED', 'ONLINE', 1);
    expect(compareQueueOrder(late, early)).toBeLessThan(0);
    expect(compareQueueOrder(early, late)).toBeGreaterThan(0);
  });

  it('then by arrival', () => {
    const a = token('BOOKED', 'ONLINE', 10, { number: 9 });
    const b = token('BOOKED', 'ONLINE', 11, { number: 1 });
    expect(compareQueueOrder(a, b)).toBeLessThan(0);
    expect(compareQueueOrder(b, a)).toBeGreaterThan(0);
  });

  it('then by number, and 0 only for the same place', () => {
    const a = token('BOOKED', 'ONLINE', 10);
    const b = token('BOOKED', 'ONLINE', 10);
    expect(compareQueueOrder(a, b)).toBeLessThan(0);
    expect(compareQueueOrder(b, a)).toBeGreaterThan(0);
    expect(compareQueueOrder(a, { ...a })).toBe(0);
  });
});

describe('buildSlotView', () => {
  it('an empty slot: no one served, empty queue and waitlist, all capacity available', () => {
    const view = buildSlotView(slotState(4, []));
    expect(view).toEqual({
      slot: {
        id: 'slot-1',
        doctorId: 'doc-1',
        branchId: 'branch-1',
        start: at(0),
        end: at(180),
        capacity: 4,
        activeCount: 0,
        available: 4,
        status: 'OPEN',
      },
      nowServing: [],
      queue: [],
      waitlist: [],
      version: 7,
      tokens: [],
    });
  });

  it('nowServing holds exactly the CALLED tokens, without position', () => {
    const tokens = [
      token('CALLED', 'WALK_IN', 1),
      token('COMPLETED', 'ONLINE', 2),
      token('CALLED', 'EMERGENCY', 3),
      token('CHECKED_IN', 'ONLINE', 4),
    ];
    const view = buildSlotView(slotState(5, tokens));
    expect(view.nowServing.map((t) => [t.id, t.status, t.position])).toEqual([
      ['t3', 'CALLED', null],
      ['t1', 'CALLED', null],
    ]);
  });

  it('queue holds BOOKED and CHECKED_IN ordered by (weight, arrivalAt, number), with position i + 1', () => {
    const tokens = [
      token('BOOKED', 'ONLINE', 5), // t1
      token('CHECKED_IN', 'WALK_IN', 1), // t2
      token('CHECKED_IN', 'EMERGENCY', 9), // t3
      token('BOOKED', 'ONLINE', 3), // t4: earlier arrival than t1 despite a later number
      token('BOOKED', 'PAID_PRIORITY', 8), // t5
      token('CHECKED_IN', 'ONLINE', 5), // t6: same arrival as t1, later number
      token('BOOKED', 'FOLLOW_UP', 2), // t7
      token('CHECKED_IN', 'EMERGENCY', 2), // t8: earlier emergency
    ];
    const view = buildSlotView(slotState(10, tokens));
    expect(view.queue.map((t) => t.id)).toEqual(['t8', 't3', 't5', 't7', 't4', 't1', 't6', 't2']);
    view.queue.forEach((t, i) => expect(t.position).toBe(i + 1));
  });

  it('uses arrivalAt, not createdAt, for the order (a token moved from another slot keeps its arrival)', () => {
    const moved = token('BOOKED', 'ONLINE', 30, { arrivalAt: at(1) });
    const local = token('BOOKED', 'ONLINE', 10);
    const view = buildSlotView(slotState(5, [local, moved]));
    expect(view.queue.map((t) => t.id)).toEqual([moved.id, local.id]);
  });

  it('the waitlist is ordered the same way with its own positions from 1', () => {
    const tokens = [
      token('BOOKED', 'ONLINE', 1),
      token('CHECKED_IN', 'WALK_IN', 2),
      token('WAITLISTED', 'WALK_IN', 3), // t3
      token('WAITLISTED', 'ONLINE', 4), // t4
      token('WAITLISTED', 'PAID_PRIORITY', 5), // t5
      token('WAITLISTED', 'ONLINE', 4), // t6 ties t4, later number
    ];
    const view = buildSlotView(slotState(2, tokens));
    expect(view.queue.map((t) => [t.id, t.position])).toEqual([
      ['t1', 1],
      ['t2', 2],
    ]);
    expect(view.waitlist.map((t) => [t.id, t.position, t.status])).toEqual([
      ['t5', 1, 'WAITLISTED'],
      ['t4', 2, 'WAITLISTED'],
      ['t6', 3, 'WAITLISTED'],
      ['t3', 4, 'WAITLISTED'],
    ]);
  });

  it('tokens that are not waiting have position null; every token is listed once, in issue order', () => {
    const statuses: TokenStatus[] = ['CALLED', 'COMPLETED', 'CANCELLED', 'NO_SHOW', 'BOOKED', 'WAITLISTED', 'CHECKED_IN'];
    const tokens = statuses.map((s, i) => token(s, 'ONLINE', i));
    const view = buildSlotView(slotState(3, tokens));
    expect(view.tokens.map((t) => [t.number, t.status, t.position])).toEqual([
      [1, 'CALLED', null],
      [2, 'COMPLETED', null],
      [3, 'CANCELLED', null],
      [4, 'NO_SHOW', null],
      [5, 'BOOKED', 1],
      [6, 'WAITLISTED', 1],
      [7, 'CHECKED_IN', 2],
    ]);
    // Cancelled, no-show and completed tokens are in no list of the view.
    const listed = [...view.nowServing, ...view.queue, ...view.waitlist].map((t) => t.id);
    expect(listed.sort()).toEqual(['t1', 't5', 't6', 't7']);
  });

  it('the same token has the same position in tokens as in queue / waitlist', () => {
    const tokens = [token('WAITLISTED', 'ONLINE', 3), token('BOOKED', 'WALK_IN', 1), token('CHECKED_IN', 'FOLLOW_UP', 2)];
    const view = buildSlotView(slotState(2, tokens));
    for (const t of [...view.queue, ...view.waitlist]) expect(view.tokens.find((x) => x.id === t.id)).toEqual(t);
  });

  it('slot.activeCount counts BOOKED, CHECKED_IN, CALLED, COMPLETED; available = capacity - activeCount', () => {
    const statuses: TokenStatus[] = ['BOOKED', 'CHECKED_IN', 'CALLED', 'COMPLETED', 'WAITLISTED', 'CANCELLED', 'NO_SHOW'];
    const tokens = statuses.map((s, i) => token(s, 'ONLINE', i));
    expect(activeCount(tokens)).toBe(4);
    expect(buildSlotView(slotState(6, tokens)).slot).toMatchObject({ capacity: 6, activeCount: 4, available: 2 });
    expect(buildSlotView(slotState(4, tokens)).slot).toMatchObject({ activeCount: 4, available: 0 });
  });

  it('available never goes negative when emergencies overflow the slot', () => {
    const tokens = [
      token('BOOKED', 'ONLINE', 1),
      token('CHECKED_IN', 'EMERGENCY', 2, { overCapacity: true }),
      token('CALLED', 'EMERGENCY', 3, { overCapacity: true }),
    ];
    const view = buildSlotView(slotState(1, tokens));
    expect(view.slot).toMatchObject({ capacity: 1, activeCount: 3, available: 0 });
    expect(view.queue.map((t) => [t.id, t.overCapacity])).toEqual([
      ['t2', true],
      ['t1', false],
    ]);
  });

  it('carries the slot version and status', () => {
    const state = slotState(2, [], 42);
    const closed: SlotState = { ...state, slot: { ...state.slot, status: 'CLOSED' } };
    expect(buildSlotView(state).version).toBe(42);
    expect(buildSlotView(closed).slot.status).toBe('CLOSED');
  });

  it('does not modify the state it reads', () => {
    const tokens = [token('BOOKED', 'WALK_IN', 1), token('BOOKED', 'EMERGENCY', 2), token('WAITLISTED', 'ONLINE', 3)];
    const state = slotState(2, tokens);
    const before = structuredClone(state);
    buildSlotView(state);
    expect(state).toEqual(before);
    expect(state.tokens.map((t) => t.id)).toEqual(['t1', 't2', 't3']);
  });
});

describe('public shapes', () => {
  it('toPublicToken exposes the contract fields only (no arrivalAt, updatedAt, cancelReason)', () => {
    const t = token('CANCELLED', 'FOLLOW_UP', 4, { cancelReason: 'moved', patient: { name: 'A', phone: '123' } });
    expect(toPublicToken(t, null)).toEqual({
      id: 't1',
      slotId: 'slot-1',
      number: 1,
      source: 'FOLLOW_UP',
      weight: 3,
      status: 'CANCELLED',
      position: null,
      overCapacity: false,
      patient: { name: 'A', phone: '123' },
      createdAt: at(4),
    });
  });

  it('toPublicSlot computes activeCount and available from the tokens', () => {
    const state = slotState(3, [token('BOOKED', 'ONLINE', 1), token('WAITLISTED', 'ONLINE', 2)]);
    expect(toPublicSlot(state.slot, state.tokens)).toMatchObject({ activeCount: 1, available: 2 });
  });

  it('findPublicToken returns the token with its position, or null', () => {
    const state = slotState(3, [token('BOOKED', 'ONLINE', 2), token('BOOKED', 'PAID_PRIORITY', 3)]);
    expect(findPublicToken(state, 't1')).toMatchObject({ id: 't1', position: 2 });
    expect(findPublicToken(state, 't2')).toMatchObject({ id: 't2', position: 1 });
    expect(findPublicToken(state, 'missing')).toBeNull();
  });
});

describe('publicTokens', () => {
  it('gives exactly what the full view gives for the asked tokens', () => {
    let state = createSlotState({ id: 's', doctorId: 'd', branchId: 'b', start: '2030-01-01T09:00:00.000Z', end: '2030-01-01T10:00:00.000Z', capacity: 2 });
    const sources = ['WALK_IN', 'ONLINE', 'EMERGENCY', 'PAID_PRIORITY'] as const;
    sources.forEach((source, i) => {
      state = applyCommand(state, { type: 'token.book', tokenId: `t${i}`, source, patient: { name: `P${i}` }, onFull: 'waitlist' }, { now: `2030-01-01T08:0${i}:00.000Z` }).state;
    });
    const view = buildSlotView(state);
    const some = publicTokens(state, ['t1', 't3', 'missing']);
    expect([...some.keys()]).toEqual(['t1', 't3']);
    expect(some.get('t1')).toEqual(view.tokens.find((t) => t.id === 't1'));
    expect(some.get('t3')).toEqual(view.tokens.find((t) => t.id === 't3'));
  });
});
