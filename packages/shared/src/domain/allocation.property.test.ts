/**
 * Property-based tests of the allocation core: random capacities and random command sequences,
 * with the invariants of the contract checked after every single step.
 */
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import type { OnFull, Patient, Source, TokenStatus } from '../schemas/common';
import { applyCommand, createSlotState, type ApplyResult } from './allocation';
import { CAPACITY_HOLDING, LIVE_STATUSES, QUEUED_STATUSES, type DomainCommand, type SlotState, type TokenRecord } from './model';
import { activeCount, buildSlotView, compareQueueOrder } from './queue';

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const START_MS = Date.parse('2025-03-03T09:00:00.000Z');
/** Steps advance 0-3 minutes (1.4 on average), so long runs go past the slot end and short ones do not. */
const SLOT_MINUTES = 50;
const at = (minute: number) => new Date(START_MS + minute * 60_000).toISOString();

/** A target is an index into the ids issued so far (taken modulo their count), or an unknown id. */
type Target = { kind: 'issued'; index: number } | { kind: 'unknown' };

type Step = { dt: number } & (
  | { type: 'book'; source: Source; onFull: OnFull; patient: Patient; replay: Target | null }
  | { type: 'cancel' | 'no-show' | 'check-in' | 'complete'; target: Target }
  | { type: 'call-next' }
);

const targetArb: fc.Arbitrary<Target> = fc.oneof(
  { weight: 9, arbitrary: fc.nat({ max: 100 }).map((index) => ({ kind: 'issued' as const, index })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unknown' as const }) },
);

// Small pools of identifiers so that duplicates (same mrn, or same phone without mrn) happen often.
const patientArb: fc.Arbitrary<Patient> = fc
  .record({
    mrn: fc.option(fc.constantFrom('M1', 'M2', 'M3', 'M4', 'M5', 'M6'), { nil: undefined, freq: 3 }),
    phone: fc.option(fc.constantFrom('+91 100', '+91 200', '+91 300'), { nil: undefined, freq: 3 }),
  })
  .map(({ mrn, phone }) => ({
    name: 'Patient',
    ...(mrn !== undefined ? { mrn } : {}),
    ...(phone !== undefined ? { phone } : {}),
  }));

const dtArb = fc.constantFrom(0, 1, 1, 2, 3);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('book' as const),
      dt: dtArb,
      source: fc.constantFrom<Source>('EMERGENCY', 'PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN'),
      onFull: fc.constantFrom<OnFull>('reject', 'waitlist', 'waitlist', 'next-slot'),
      patient: patientArb,
      replay: fc.oneof(
        { weight: 9, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: targetArb },
      ),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constantFrom('cancel' as const, 'no-show' as const, 'check-in' as const, 'complete' as const),
      dt: dtArb,
      target: targetArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('call-next' as const), dt: dtArb }) },
);

const scenarioArb = fc.record({
  capacity: fc.integer({ min: 1, max: 8 }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }),
});

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** A deep copy made in this realm (structuredClone makes objects of the host realm, which util.isDeepStrictEqual tells apart under jest). */
function clone<T>(value: T): T {
  if (Array.isArray(value)) return value.map(clone) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)])) as T;
  }
  return value;
}

function fail(message: string, context: unknown): never {
  throw new Error(`${message}\n${JSON.stringify(context, null, 2)}`);
}

function check(condition: boolean, message: string, context: unknown = {}): void {
  if (!condition) fail(message, context);
}

function resolve(target: Target, issued: readonly string[]): string {
  return target.kind === 'unknown' || issued.length === 0 ? 'unknown-token' : issued[target.index % issued.length];
}

function toCommand(step: Step, issued: readonly string[], freshId: () => string): DomainCommand {
  switch (step.type) {
    case 'book':
      return {
        type: 'token.book',
        tokenId: step.replay && issued.length > 0 ? resolve(step.replay, issued) : freshId(),
        source: step.source,
        patient: step.patient,
        onFull: step.onFull,
      };
    case 'call-next':
      return { type: 'slot.call-next' };
    case 'cancel':
      return { type: 'token.cancel', tokenId: resolve(step.target, issued) };
    case 'no-show':
      return { type: 'token.no-show', tokenId: resolve(step.target, issued) };
    case 'check-in':
      return { type: 'token.check-in', tokenId: resolve(step.target, issued) };
    case 'complete':
      return { type: 'token.complete', tokenId: resolve(step.target, issued) };
  }
}

/** The legal moves of the contract's day flow (from -> to), used to judge every status change. */
const LEGAL_MOVES: Record<string, ReadonlySet<TokenStatus>> = {
  'token.cancel': new Set(['BOOKED', 'WAITLISTED', 'CHECKED_IN', 'CALLED']),
  'token.no-show': new Set(['BOOKED', 'CHECKED_IN', 'CALLED']),
  'token.check-in': new Set(['BOOKED']),
  'token.complete': new Set(['CALLED']),
};
const TARGET_STATUS: Record<string, TokenStatus> = {
  'token.cancel': 'CANCELLED',
  'token.no-show': 'NO_SHOW',
  'token.check-in': 'CHECKED_IN',
  'token.complete': 'COMPLETED',
};

/** Invariants of one state, whatever led to it. */
function checkState(state: SlotState, capacity: number, issued: readonly string[]): void {
  const { tokens, slot } = state;
  const active = activeCount(tokens);

  // Non-emergency tokens never exceed capacity.
  const nonEmergencyHolding = tokens.filter((t) => CAPACITY_HOLDING.has(t.status) && t.source !== 'EMERGENCY').length;
  check(nonEmergencyHolding <= capacity, 'non-emergency tokens exceed capacity', { nonEmergencyHolding, capacity });

  // A waitlist only exists while the slot is full.
  const waitlisted = tokens.filter((t) => t.status === 'WAITLISTED');
  check(waitlisted.length === 0 || active >= capacity, 'waitlist while the slot has room', { active, capacity });

  // Numbers 1..k in issue order; the next number follows.
  tokens.forEach((t, i) => check(t.number === i + 1, 'token numbers are not 1..k in issue order', { i, number: t.number }));
  check(slot.nextNumber === tokens.length + 1, 'nextNumber does not follow the last number', { nextNumber: slot.nextNumber });

  // Every id issued is present exactly once, in issue order, and nothing else is.
  check(
    isDeepStrictEqual(
      tokens.map((t) => t.id),
      issued,
    ),
    'tokens lost, duplicated or unknown',
    { tokens: tokens.map((t) => t.id), issued },
  );

  // overCapacity only ever marks emergencies.
  check(
    tokens.every((t) => !t.overCapacity || t.source === 'EMERGENCY'),
    'overCapacity on a non-emergency',
  );

  // A patient holds at most one live token (by mrn, or by phone for mrn-less bookings).
  const liveMrns = tokens.filter((t) => LIVE_STATUSES.has(t.status) && t.patient.mrn !== undefined).map((t) => t.patient.mrn);
  check(new Set(liveMrns).size === liveMrns.length, 'two live tokens share an mrn', { liveMrns });

  // The view.
  const view = buildSlotView(state);
  check(view.version === slot.version, 'view version differs from slot version');
  check(view.slot.activeCount === active, 'activeCount of the view');
  check(view.slot.available === Math.max(0, capacity - active), 'available is not max(0, capacity - activeCount)', view.slot);

  const byId = new Map(tokens.map((t) => [t.id, t]));
  const ordered = (list: { id: string; position: number | null }[], statuses: ReadonlySet<TokenStatus>, name: string) => {
    const expectedCount = tokens.filter((t) => statuses.has(t.status)).length;
    check(list.length === expectedCount, `${name} does not hold every token of its statuses`, { name, list });
    list.forEach((t, i) => {
      const record = byId.get(t.id)!;
      check(statuses.has(record.status), `${name} holds a ${record.status} token`);
      check(t.position === i + 1, `${name} positions are not 1..n`, { name, i, position: t.position });
      if (i > 0) {
        check(compareQueueOrder(byId.get(list[i - 1].id)!, record) < 0, `${name} is not sorted by (weight, arrival, number)`, {
          previous: byId.get(list[i - 1].id),
          record,
        });
      }
    });
  };
  ordered(view.queue, QUEUED_STATUSES, 'queue');
  ordered(view.waitlist, new Set(['WAITLISTED']), 'waitlist');
  check(
    view.nowServing.length === tokens.filter((t) => t.status === 'CALLED').length && view.nowServing.every((t) => t.status === 'CALLED'),
    'nowServing is not the CALLED tokens',
  );
  for (const t of view.tokens) {
    const waiting = QUEUED_STATUSES.has(t.status) || t.status === 'WAITLISTED';
    check(waiting === (t.position !== null), 'a token that is not waiting has a position, or the reverse', t);
  }
}

/** What one step did, judged against the state before it. */
function checkStep(
  before: SlotState,
  command: DomainCommand,
  now: string,
  result: ApplyResult,
  capacity: number,
): void {
  const after = result.state;
  const { outcome } = result;
  const changed = !isDeepStrictEqual(before, after);

  // Version grows by exactly one on change, not at all otherwise.
  check(after.slot.version === before.slot.version + (changed ? 1 : 0), 'version did not move by exactly one per change', {
    changed,
    before: before.slot.version,
    after: after.slot.version,
  });

  // The slot record only changes in version and nextNumber, plus the estimate fields: estimateBase
  // becomes the command's time on every change, the consultation average moves only on a completion.
  const { version: _v1, nextNumber: _n1, estimateBase: base1, consultation: c1, ...slotBefore } = before.slot;
  const { version: _v2, nextNumber: _n2, estimateBase: base2, consultation: c2, ...slotAfter } = after.slot;
  check(isDeepStrictEqual(slotBefore, slotAfter), 'slot fields changed');
  check(base2 === (changed ? now : base1), 'estimateBase is not the time of the last change', { base1, base2, now, changed });
  check(isDeepStrictEqual(c1, c2) || command.type === 'token.complete', 'consultation changed by something else than a completion');

  // changedTokenIds names exactly the tokens created or changed.
  const previous = new Map(before.tokens.map((t) => [t.id, t]));
  const reallyChanged = after.tokens.filter((t) => !isDeepStrictEqual(previous.get(t.id), t)).map((t) => t.id);
  check(
    isDeepStrictEqual([...result.changedTokenIds].sort(), [...reallyChanged].sort()) &&
      new Set(result.changedTokenIds).size === result.changedTokenIds.length,
    'changedTokenIds differ from the tokens that changed',
    { changedTokenIds: result.changedTokenIds, reallyChanged },
  );

  // Every status change is a legal move; only the target moves, plus promotions WAITLISTED -> BOOKED.
  for (const t of after.tokens) {
    const old = previous.get(t.id);
    if (!old || old.status === t.status) continue;
    const promoted = old.status === 'WAITLISTED' && t.status === 'BOOKED';
    const targetMove = 'tokenId' in command && command.tokenId === t.id && command.type !== 'token.book';
    const callMove = command.type === 'slot.call-next' && old.status === 'CHECKED_IN' && t.status === 'CALLED';
    check(promoted || targetMove || callMove, 'a token changed status that should not have', { command, old, t });
  }

  const active = activeCount(before.tokens);
  const full = active >= capacity;

  if (!outcome.ok) {
    check(isDeepStrictEqual(before, after), 'a failure changed the state', { outcome });
    check(result.changedTokenIds.length === 0, 'a failure reports changed tokens');
  }

  switch (command.type) {
    case 'token.book': {
      const existing = previous.get(command.tokenId);
      if (existing) {
        // Replay: 200, same token, nothing changes.
        check(outcome.ok && outcome.httpStatus === 200 && outcome.tokenId === existing.id && !changed, 'replay is not a no-op 200', {
          outcome,
        });
        return;
      }
      // Independent decision of the contract, compared with the allocator's.
      const ended = Date.parse(now) >= Date.parse(before.slot.end);
      const p = command.patient;
      const duplicate = before.tokens.find(
        (t) =>
          LIVE_STATUSES.has(t.status) &&
          (p.mrn !== undefined ? t.patient.mrn === p.mrn : p.phone !== undefined && t.patient.phone === p.phone),
      );
      const emergency = command.source === 'EMERGENCY';
      let expected: string;
      if (ended) expected = 'SLOT_CLOSED';
      else if (duplicate) expected = 'DUPLICATE_BOOKING';
      else if (emergency || !full) expected = emergency || command.source === 'WALK_IN' ? 'CHECKED_IN' : 'BOOKED';
      else if (command.onFull === 'waitlist') expected = 'WAITLISTED';
      else expected = 'SLOT_FULL';

      if (!outcome.ok) {
        check(outcome.code === expected, 'booking refused for the wrong reason', { expected, outcome });
        if (expected === 'DUPLICATE_BOOKING') check(outcome.details?.tokenId === duplicate!.id, 'duplicate names the wrong token');
        if (expected === 'SLOT_FULL' || expected === 'SLOT_CLOSED') check(outcome.details?.slotId === before.slot.id, 'details.slotId');
        return;
      }
      const token = after.tokens[after.tokens.length - 1];
      check(
        outcome.httpStatus === 201 && outcome.tokenId === command.tokenId && token.id === command.tokenId,
        'a new booking is not 201 with its own id',
        { outcome },
      );
      check(token.status === expected, 'new token has the wrong status', { expected, token });
      check(token.number === before.slot.nextNumber, 'new token did not take the next number');
      check(token.overCapacity === (emergency && full), 'overCapacity is not "emergency accepted in a full slot"', { token, full });
      check(token.arrivalAt === now && token.createdAt === now, 'new token times are not now');
      // A booking never changes, removes or moves anybody else.
      check(isDeepStrictEqual(after.tokens.slice(0, -1), before.tokens), 'a booking changed other tokens');
      check(outcome.promotedIds.length === 0, 'a booking promoted someone');
      return;
    }
    case 'slot.call-next': {
      const best = before.tokens.filter((t) => t.status === 'CHECKED_IN').sort(compareQueueOrder)[0];
      if (!best) {
        check(!outcome.ok && outcome.code === 'NOT_FOUND', 'call-next with nobody present is not NOT_FOUND', { outcome });
        return;
      }
      check(outcome.ok && outcome.tokenId === best.id, 'call-next did not call the first present patient', { best, outcome });
      check(after.tokens.find((t) => t.id === best.id)?.status === 'CALLED', 'called token is not CALLED');
      return;
    }
    default: {
      // The generator only issues token commands here (slot commands have their own tests).
      if (!('tokenId' in command)) return;
      const target = previous.get(command.tokenId);
      if (!target) {
        check(!outcome.ok && outcome.code === 'NOT_FOUND', 'unknown token is not NOT_FOUND', { outcome });
        return;
      }
      if (command.type === 'token.cancel' && target.status === 'CANCELLED') {
        check(outcome.ok && outcome.httpStatus === 200 && !changed, 'repeated cancel is not a no-op 200', { outcome });
        return;
      }
      if (!LEGAL_MOVES[command.type].has(target.status)) {
        check(!outcome.ok && outcome.code === 'INVALID_TRANSITION', 'illegal move not refused', { command, target, outcome });
        return;
      }
      check(outcome.ok && outcome.httpStatus === 200 && outcome.tokenId === target.id, 'legal move refused', { command, target, outcome });
      if (!outcome.ok) return;
      const moved = after.tokens.find((t) => t.id === target.id)!;
      check(moved.status === TARGET_STATUS[command.type] && moved.updatedAt === now, 'target did not move to its status', { moved });

      // Releases free a place; the best waitlisted tokens take the room, and only the room.
      const releases = command.type === 'token.cancel' || command.type === 'token.no-show';
      const freed = releases && CAPACITY_HOLDING.has(target.status);
      const waitlist = before.tokens.filter((t) => t.status === 'WAITLISTED').sort(compareQueueOrder);
      const room = capacity - (active - (freed ? 1 : 0));
      const expectedPromoted = freed ? waitlist.slice(0, Math.max(0, room)).map((t) => t.id) : [];
      check(isDeepStrictEqual(outcome.promotedIds, expectedPromoted), 'promotion is not the best waitlisted while there is room', {
        promotedIds: outcome.promotedIds,
        expectedPromoted,
        active,
        capacity,
      });
      for (const id of outcome.promotedIds) {
        check(after.tokens.find((t) => t.id === id)?.status === 'BOOKED', 'promoted token is not BOOKED');
      }
    }
  }
}

/** Applies the steps one by one and checks everything after each; returns what happened for coverage. */
function run(capacity: number, steps: Step[]): Record<string, number> {
  let state = createSlotState({
    id: 'slot-1',
    doctorId: 'doc-1',
    branchId: 'branch-1',
    start: at(0),
    end: at(SLOT_MINUTES),
    capacity,
  });
  const issued: string[] = [];
  const seen: Record<string, number> = {};
  let minute = 0;
  let fresh = 0;
  for (const step of steps) {
    minute += step.dt;
    const now = at(minute);
    const command = toCommand(step, issued, () => `tok-${++fresh}`);
    const before = deepFreeze(state);
    const snapshot = clone(before);
    const result = applyCommand(before, command, { now });
    check(isDeepStrictEqual(before, snapshot), 'applyCommand mutated its input');
    checkStep(before, command, now, result, capacity);
    if (result.outcome.ok && result.outcome.httpStatus === 201) issued.push(result.outcome.tokenId);
    state = result.state;
    checkState(state, capacity, issued);

    const { outcome } = result;
    const key = !outcome.ok
      ? `${command.type}:${outcome.code}`
      : command.type === 'token.book' && outcome.httpStatus === 200
        ? 'token.book:replay'
        : `${command.type}:ok${outcome.promotedIds.length ? '+promote' : ''}`;
    seen[key] = (seen[key] ?? 0) + 1;
    if (state.tokens.some((t) => t.overCapacity)) seen.overCapacity = (seen.overCapacity ?? 0) + 1;
  }
  return seen;
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('allocation properties (random command sequences)', () => {
  it('keeps every invariant after every step', () => {
    const coverage: Record<string, number> = {};
    fc.assert(
      fc.property(scenarioArb, ({ capacity, steps }) => {
        const seen = run(capacity, steps);
        for (const [k, n] of Object.entries(seen)) coverage[k] = (coverage[k] ?? 0) + n;
      }),
      { numRuns: 300 },
    );
    if (process.env.SHOW_COVERAGE) console.log(coverage);
    // The generators must actually reach the interesting cases, or the property proves little.
    for (const key of [
      'token.book:ok',
      'token.book:SLOT_FULL',
      'token.book:SLOT_CLOSED',
      'token.book:DUPLICATE_BOOKING',
      'token.book:replay',
      'token.cancel:ok',
      'token.cancel:ok+promote',
      'token.no-show:ok+promote',
      'token.cancel:INVALID_TRANSITION',
      'token.check-in:ok',
      'token.check-in:INVALID_TRANSITION',
      'token.complete:ok',
      'token.no-show:NOT_FOUND',
      'slot.call-next:ok',
      'slot.call-next:NOT_FOUND',
      'overCapacity',
    ]) {
      expect({ key, reached: (coverage[key] ?? 0) > 0 }).toEqual({ key, reached: true });
    }
  });

  it('is deterministic: the same commands at the same times give the same states', () => {
    fc.assert(
      fc.property(scenarioArb, ({ capacity, steps }) => {
        const replayed = (): SlotState[] => {
          let state = createSlotState({ id: 's', doctorId: 'd', branchId: 'b', start: at(0), end: at(SLOT_MINUTES), capacity });
          const issued: string[] = [];
          let fresh = 0;
          let minute = 0;
          const states: SlotState[] = [];
          for (const step of steps) {
            minute += step.dt;
            const result = applyCommand(state, toCommand(step, issued, () => `tok-${++fresh}`), { now: at(minute) });
            if (result.outcome.ok && result.outcome.httpStatus === 201) issued.push(result.outcome.tokenId);
            state = result.state;
            states.push(state);
          }
          return states;
        };
        expect(replayed()).toEqual(replayed());
      }),
      { numRuns: 50 },
    );
  });

  it('a waitlisted token is only ever promoted, never skipped by a later, lower-priority one', () => {
    // With only releases after the slot fills, promotions must come out in waitlist order.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.constantFrom<Source>('PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN'), { minLength: 1, maxLength: 20 }),
        (capacity, waitlistSources) => {
          let state = createSlotState({ id: 's', doctorId: 'd', branchId: 'b', start: at(0), end: at(SLOT_MINUTES), capacity });
          let minute = 0;
          const book = (tokenId: string, source: Source): TokenRecord => {
            minute += 1;
            state = applyCommand(state, { type: 'token.book', tokenId, source, patient: { name: tokenId }, onFull: 'waitlist' }, { now: at(minute) }).state;
            return state.tokens[state.tokens.length - 1];
          };
          const holders = Array.from({ length: capacity }, (_, i) => book(`h${i}`, 'ONLINE').id);
          waitlistSources.forEach((source, i) => book(`w${i}`, source));
          const expectedOrder = buildSlotView(state).waitlist.map((t) => t.id);
          const promoted: string[] = [];
          // Release the holders, then every promoted token, one at a time.
          const toRelease = [...holders];
          while (toRelease.length > 0) {
            minute += 1;
            const result = applyCommand(state, { type: 'token.cancel', tokenId: toRelease.shift()! }, { now: at(minute) });
            if (!result.outcome.ok) throw new Error(result.outcome.code);
            state = result.state;
            promoted.push(...result.outcome.promotedIds);
            toRelease.push(...result.outcome.promotedIds);
          }
          expect(promoted).toEqual(expectedOrder);
        },
      ),
      { numRuns: 200 },
    );
  });
});
