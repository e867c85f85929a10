import { createSlotState, type SlotEvent, type SlotState, type TokenRecord } from '@opd/shared';
import { applySlotEvent } from './projector';

const base = createSlotState({ id: 's1', doctorId: 'd', branchId: 'b', start: '2030-01-01T09:00:00.000Z', end: '2030-01-01T10:00:00.000Z', capacity: 3 });
const token = (n: number, status: TokenRecord['status'] = 'BOOKED'): TokenRecord => ({
  id: `t${n}`,
  slotId: 's1',
  number: n,
  source: 'ONLINE',
  weight: 4,
  status,
  overCapacity: false,
  patient: { name: `P${n}` },
  createdAt: '2030-01-01T08:00:00.000Z',
  arrivalAt: '2030-01-01T08:00:00.000Z',
  updatedAt: '2030-01-01T08:00:00.000Z',
});
const at = (version: number, tokens: TokenRecord[]): SlotState => ({ slot: { ...base.slot, version }, tokens });
const changed = (baseVersion: number, version: number, tokens: TokenRecord[]): SlotEvent => ({
  schemaVersion: 1,
  type: 'slot.changed',
  baseVersion,
  slot: { ...base.slot, version },
  tokens,
});

describe('applySlotEvent', () => {
  it('applies a change on top of the version it was made against, keeping issue order', () => {
    const next = applySlotEvent(at(3, [token(1), token(2)]), changed(3, 5, [token(3), token(1, 'CANCELLED')]));
    expect(next).toEqual(at(5, [token(1, 'CANCELLED'), token(2), token(3)]));
  });

  it('ignores replays and older events', () => {
    expect(applySlotEvent(at(5, [token(1)]), changed(3, 5, [token(1)]))).toBe('stale');
    expect(applySlotEvent(at(5, [token(1)]), changed(2, 3, [token(1)]))).toBe('stale');
  });

  it('asks for a rebuild when it does not hold the base version', () => {
    expect(applySlotEvent(undefined, changed(3, 4, [token(1)]))).toBe('rebuild');
    expect(applySlotEvent(at(2, []), changed(3, 4, [token(1)]))).toBe('rebuild');
  });

  it('takes a new slot and a full snapshot as they are', () => {
    expect(applySlotEvent(undefined, changed(0, 1, []))).toEqual(at(1, []));
    const snapshot: SlotEvent = { schemaVersion: 1, type: 'slot.snapshot', slot: { ...base.slot, version: 9 }, tokens: [token(1)] };
    expect(applySlotEvent(at(4, []), snapshot)).toEqual(at(9, [token(1)]));
  });
});
