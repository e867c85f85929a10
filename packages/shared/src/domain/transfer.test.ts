/**
 * Unit tests of transfer (issue 4): the target books first (`token.transfer-in`), the source then
 * lets the old token go (`token.transfer-out`), or the target cancels what it booked
 * (`token.transfer-abort`). Pure functions only; every state is frozen to catch mutation.
 */
import type { OnFull, Source, TokenStatus } from '../schemas/common';
import { applyCommand, createSlotState, type ApplyResult } from './allocation';
import { CAPACITY_HOLDING, LIVE_STATUSES, type DomainCommand, type SlotState, type TokenRecord } from './model';
import { activeCount, buildSlotView } from './queue';
import { checkTransfer, transferredTokenId } from './transfer';

const START_MS = Date.parse('2025-03-03T09:00:00.000Z');
const at = (minute: number): string => new Date(START_MS + minute * 60_000).toISOString();
let clock = 0;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** One slot; all slots share a clock moving one minute per command. */
class Slot {
  state: SlotState;
  private seq = 0;

  constructor(
    readonly id: string,
    capacity: number,
  ) {
    this.state = deepFreeze(createSlotState({ id, doctorId: `doc-${id}`, branchId: 'b', start: at(0), end: at(600), capacity }));
  }

  run(command: DomainCommand): ApplyResult {
    clock += 1;
    const result = applyCommand(this.state, command, { now: at(clock) });
    this.state = deepFreeze(result.state);
    return result;
  }

  book(source: Source, onFull: OnFull = 'reject'): string {
    const tokenId = `${this.id}-t${++this.seq}`;
    const res = this.run({ type: 'token.book', tokenId, source, patient: { name: tokenId, mrn: tokenId }, onFull });
    if (!res.outcome.ok) throw new Error(`booking ${tokenId} failed: ${res.outcome.code}`);
    return tokenId;
  }

  token(id: string): TokenRecord {
    const t = this.state.tokens.find((x) => x.id === id);
    if (!t) throw new Error(`no token ${id}`);
    return t;
  }

  status(id: string): TokenStatus {
    return this.token(id).status;
  }
}

/** The transfer-in command the gateway would send for `old` to `target`. */
function transferIn(old: TokenRecord, target: Slot, onFull: 'reject' | 'waitlist' = 'reject'): Extract<DomainCommand, { type: 'token.transfer-in' }> {
  return {
    type: 'token.transfer-in',
    tokenId: transferredTokenId(old.id, target.id),
    source: old.source,
    patient: old.patient,
    arrivalAt: old.arrivalAt,
    movedFromTokenId: old.id,
    present: old.status === 'CHECKED_IN',
    onFull,
  };
}

/** Runs the saga to its end, as the allocators would: returns the outcome the client is given. */
function transfer(source: Slot, oldId: string, target: Slot, onFull: 'reject' | 'waitlist' = 'reject') {
  const old = source.token(oldId);
  const booked = target.run(transferIn(old, target, onFull));
  if (!booked.outcome.ok) return { step: 'target' as const, outcome: booked.outcome };
  const newId = booked.outcome.tokenId;
  const out = source.run({ type: 'token.transfer-out', tokenId: oldId, movedTo: newId });
  if (!out.outcome.ok) {
    target.run({ type: 'token.transfer-abort', tokenId: newId, movedFromTokenId: oldId });
    return { step: 'source' as const, outcome: out.outcome, newId };
  }
  return { step: 'done' as const, outcome: out.outcome, newId };
}

describe('transferredTokenId', () => {
  it('is derived from the old token and the target slot: the same pair, the same id', () => {
    expect(transferredTokenId('a', 's1')).toBe(transferredTokenId('a', 's1'));
    expect(transferredTokenId('a', 's1')).not.toBe(transferredTokenId('a', 's2'));
    expect(transferredTokenId('a', 's1')).not.toBe(transferredTokenId('b', 's1'));
    expect(transferredTokenId('a', 's1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-b[0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('checkTransfer (the gateway early answer)', () => {
  const token = (status: TokenStatus, movedTo?: string | null) => ({ id: 'old', slotId: 'src', status, movedTo });

  it('accepts the waiting statuses and gives the derived id', () => {
    for (const status of ['BOOKED', 'CHECKED_IN', 'WAITLISTED'] as const) {
      expect(checkTransfer(token(status), 'dst')).toEqual({ ok: true, newTokenId: transferredTokenId('old', 'dst'), replay: false });
    }
  });

  it('refuses the same slot with a 400 naming slotId', () => {
    expect(checkTransfer(token('BOOKED'), 'src')).toMatchObject({
      ok: false,
      code: 'VALIDATION_ERROR',
      details: { fields: [{ field: 'slotId' }] },
    });
  });

  it('refuses tokens that no longer wait with INVALID_TRANSITION', () => {
    for (const status of ['CALLED', 'COMPLETED', 'CANCELLED', 'NO_SHOW', 'PENDING'] as const) {
      expect(checkTransfer(token(status), 'dst')).toMatchObject({ ok: false, code: 'INVALID_TRANSITION', details: { from: status } });
    }
    expect(checkTransfer(token('MOVED', null), 'dst')).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' });
    expect(checkTransfer(token('MOVED', transferredTokenId('old', 'other')), 'dst')).toMatchObject({ ok: false });
  });

  it('lets a retry of a transfer that happened through (same target: same answer)', () => {
    const newId = transferredTokenId('old', 'dst');
    expect(checkTransfer(token('MOVED', newId), 'dst')).toEqual({ ok: true, newTokenId: newId, replay: true });
  });
});

describe('transfer: target books, source lets go', () => {
  it('keeps source, weight and arrival: a transferred FOLLOW_UP is ahead of a later FOLLOW_UP in the target', () => {
    const source = new Slot('src', 3);
    const target = new Slot('dst', 3);
    const early = source.book('FOLLOW_UP');
    const later = target.book('FOLLOW_UP');
    const res = transfer(source, early, target);
    expect(res.step).toBe('done');
    const moved = target.token(res.newId!);
    expect(moved).toMatchObject({ source: 'FOLLOW_UP', weight: 3, status: 'BOOKED', movedFrom: early, arrivalAt: source.token(early).arrivalAt });
    expect(moved.arrivalAt < target.token(later).arrivalAt).toBe(true);
    expect(buildSlotView(target.state).queue.map((t) => t.id)).toEqual([res.newId, later]);
    expect(source.token(early)).toMatchObject({ status: 'MOVED', movedTo: res.newId });
    expect(buildSlotView(source.state).queue).toEqual([]);
  });

  it('frees the place at the source: the best waitlisted token is promoted', () => {
    const source = new Slot('src', 1);
    const target = new Slot('dst', 2);
    const holder = source.book('ONLINE');
    const waiting = source.book('WALK_IN', 'waitlist');
    const res = transfer(source, holder, target);
    expect(res.outcome).toMatchObject({ ok: true, httpStatus: 200, tokenId: holder, promotedIds: [waiting] });
    expect(source.status(waiting)).toBe('BOOKED');
    expect(activeCount(source.state.tokens)).toBe(1);
  });

  it('a CHECKED_IN patient stays checked in; a WAITLISTED one gets a place if the target has room', () => {
    const source = new Slot('src', 1);
    const target = new Slot('dst', 3);
    const online = source.book('ONLINE');
    source.run({ type: 'token.check-in', tokenId: online });
    const waiting = source.book('FOLLOW_UP', 'waitlist');
    const first = transfer(source, online, target);
    expect(target.token(first.newId!).status).toBe('CHECKED_IN');
    // The source promoted the waitlisted one when the place freed; transfer it too.
    expect(source.status(waiting)).toBe('BOOKED');
    const second = transfer(source, waiting, target);
    expect(target.token(second.newId!).status).toBe('BOOKED');
    expect(source.state.tokens.every((t) => t.status === 'MOVED')).toBe(true);
  });

  it('a full target refuses (SLOT_FULL) and nothing changes at the source; waitlist on request', () => {
    const source = new Slot('src', 2);
    const target = new Slot('dst', 1);
    target.book('WALK_IN');
    const old = source.book('ONLINE');
    const sourceBefore = source.state;
    const refused = transfer(source, old, target);
    expect(refused).toMatchObject({ step: 'target', outcome: { ok: false, code: 'SLOT_FULL' } });
    expect(source.state).toBe(sourceBefore);
    const waited = transfer(source, old, target, 'waitlist');
    expect(waited.step).toBe('done');
    expect(target.token(waited.newId!)).toMatchObject({ status: 'WAITLISTED', movedFrom: old });
    expect(source.token(old)).toMatchObject({ status: 'MOVED', movedTo: waited.newId });
  });

  it('an emergency keeps weight 1 and goes over capacity in a full target', () => {
    const source = new Slot('src', 1);
    const target = new Slot('dst', 1);
    target.book('PAID_PRIORITY');
    const emergency = source.book('EMERGENCY');
    const res = transfer(source, emergency, target);
    expect(res.step).toBe('done');
    expect(target.token(res.newId!)).toMatchObject({ weight: 1, overCapacity: true, status: 'CHECKED_IN' });
    expect(buildSlotView(target.state).queue[0].id).toBe(res.newId);
  });

  it('a closed target refuses with SLOT_CLOSED; the same patient in the target with DUPLICATE_BOOKING', () => {
    const source = new Slot('src', 2);
    const closed = new Slot('closed', 2);
    closed.run({ type: 'slot.close' });
    const old = source.book('ONLINE');
    expect(transfer(source, old, closed).outcome).toMatchObject({ ok: false, code: 'SLOT_CLOSED' });

    const target = new Slot('dst', 2);
    const patient = source.token(old).patient;
    target.run({ type: 'token.book', tokenId: 'mine', source: 'ONLINE', patient, onFull: 'reject' });
    expect(transfer(source, old, target).outcome).toMatchObject({ ok: false, code: 'DUPLICATE_BOOKING', details: { tokenId: 'mine' } });
    expect(source.status(old)).toBe('BOOKED');
  });

  it('replays change nothing: a second transfer-in books no second token, a second transfer-out is a 200', () => {
    const source = new Slot('src', 2);
    const target = new Slot('dst', 2);
    const old = source.book('ONLINE');
    const command = transferIn(source.token(old), target);
    const first = target.run(command);
    expect(first.outcome).toMatchObject({ ok: true, httpStatus: 201 });
    const again = target.run(command);
    expect(again.outcome).toMatchObject({ ok: true, httpStatus: 200, tokenId: command.tokenId });
    expect(again.changedTokenIds).toEqual([]);
    expect(target.state.tokens).toHaveLength(1);

    source.run({ type: 'token.transfer-out', tokenId: old, movedTo: command.tokenId });
    const sourceAfter = source.state;
    const outAgain = source.run({ type: 'token.transfer-out', tokenId: old, movedTo: command.tokenId });
    expect(outAgain.outcome).toMatchObject({ ok: true, httpStatus: 200 });
    expect(source.state).toBe(sourceAfter);
  });
});

describe('transfer: the source refuses, the target compensates', () => {
  it.each([
    ['called meanwhile', (s: Slot, id: string) => { s.run({ type: 'token.check-in', tokenId: id }); s.run({ type: 'slot.call-next' }); }, 'CALLED'],
    ['cancelled meanwhile', (s: Slot, id: string) => void s.run({ type: 'token.cancel', tokenId: id }), 'CANCELLED'],
    ['moved by a close meanwhile', (s: Slot) => void s.run({ type: 'slot.close' }), 'MOVED'],
  ])('%s: 409 INVALID_TRANSITION, the new token is cancelled and its place given back', (_name, meanwhile, oldStatus) => {
    const source = new Slot('src', 2);
    const target = new Slot('dst', 1);
    const old = source.book('ONLINE');
    const booked = target.run(transferIn(source.token(old), target));
    expect(booked.outcome.ok).toBe(true);
    const newId = transferredTokenId(old, 'dst');
    const waiting = target.book('WALK_IN', 'waitlist');
    expect(target.status(waiting)).toBe('WAITLISTED');

    meanwhile(source, old);
    const out = source.run({ type: 'token.transfer-out', tokenId: old, movedTo: newId });
    expect(out.outcome).toMatchObject({ ok: false, code: 'INVALID_TRANSITION', details: { tokenId: old, from: oldStatus } });
    expect(source.status(old)).toBe(oldStatus);
    const abort = target.run({ type: 'token.transfer-abort', tokenId: newId, movedFromTokenId: old });
    expect(abort.outcome).toMatchObject({ ok: true, promotedIds: [waiting] });
    expect(target.token(newId)).toMatchObject({ status: 'CANCELLED', cancelReason: 'transfer aborted' });
    expect(target.status(waiting)).toBe('BOOKED');
    // The abort is idempotent; the patient holds at most one live token in the two slots.
    const again = target.run({ type: 'token.transfer-abort', tokenId: newId, movedFromTokenId: old });
    expect(again.outcome).toMatchObject({ ok: true, httpStatus: 200 });
    expect(again.changedTokenIds).toEqual([]);
  });

  it('two racing transfers of one token to two slots: the source takes the first, the second is cancelled', () => {
    const source = new Slot('src', 2);
    const a = new Slot('a', 2);
    const b = new Slot('b', 2);
    const old = source.book('PAID_PRIORITY');
    const snapshot = source.token(old);
    a.run(transferIn(snapshot, a));
    b.run(transferIn(snapshot, b));
    const idA = transferredTokenId(old, 'a');
    const idB = transferredTokenId(old, 'b');
    expect(source.run({ type: 'token.transfer-out', tokenId: old, movedTo: idA }).outcome.ok).toBe(true);
    const second = source.run({ type: 'token.transfer-out', tokenId: old, movedTo: idB });
    expect(second.outcome).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' });
    b.run({ type: 'token.transfer-abort', tokenId: idB, movedFromTokenId: old });
    const live = [...source.state.tokens, ...a.state.tokens, ...b.state.tokens].filter((t) => LIVE_STATUSES.has(t.status));
    expect(live.map((t) => t.id)).toEqual([idA]);
    expect(source.token(old).movedTo).toBe(idA);
  });

  it('leaves a replacing token alone once it went further (called) or when it replaces another token', () => {
    const source = new Slot('src', 2);
    const target = new Slot('dst', 2);
    const old = source.book('WALK_IN');
    target.run(transferIn(source.token(old), target));
    const newId = transferredTokenId(old, 'dst');
    expect(target.run({ type: 'token.transfer-abort', tokenId: newId, movedFromTokenId: 'someone-else' }).outcome).toMatchObject({
      ok: false,
      code: 'INVALID_TRANSITION',
    });
    target.run({ type: 'slot.call-next' });
    expect(target.status(newId)).toBe('CALLED');
    const abort = target.run({ type: 'token.transfer-abort', tokenId: newId, movedFromTokenId: old });
    expect(abort.outcome).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' });
    expect(target.status(newId)).toBe('CALLED');
    expect(CAPACITY_HOLDING.has(target.status(newId))).toBe(true);
  });
});
