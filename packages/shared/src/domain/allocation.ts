/**
 * The allocation rules: pure functions over one slot's state. No I/O, no clock, no randomness;
 * the allocator feeds commands in partition order and persists what comes out.
 */
import type { ErrorCode } from '../errors';
import type { Patient, Source, TokenStatus } from '../schemas/common';
import {
  CAPACITY_HOLDING,
  LIVE_STATUSES,
  PRESENT_ON_ISSUE,
  SOURCE_WEIGHT,
  TRANSFERABLE_STATUSES,
  type ConsultationEstimate,
  type DomainCommand,
  type SlotRecord,
  type SlotState,
  type SourceQuota,
  type TokenRecord,
} from './model';
import { activeCount, compareQueueOrder, consultationOf } from './queue';

export type Outcome =
  | {
      ok: true;
      /** 201 when a token was issued, 200 otherwise (including an idempotent replay). */
      httpStatus: 200 | 201;
      /** The token the command was about; '' for slot commands (capacity, delay, close). */
      tokenId: string;
      promotedIds: string[];
      /**
       * Slot commands only: capacity decrease -> the tokens moved to the waitlist; close -> the
       * tokens that became MOVED, in the order they are to be reallocated.
       */
      movedIds?: string[];
    }
  | { ok: false; code: ErrorCode; message: string; details?: Record<string, unknown> };

export interface ApplyResult {
  state: SlotState;
  outcome: Outcome;
  /** Ids of tokens created or changed; empty when the state is unchanged. */
  changedTokenIds: string[];
}

export interface ApplyContext {
  /** ISO time at which the allocator applies the command. */
  now: string;
}

export function createSlotState(slot: Omit<SlotRecord, 'version' | 'nextNumber' | 'status'>): SlotState {
  // Extension fields (delayMinutes, labelPrefix, labelBase) are kept as given.
  return { slot: { ...slot, status: 'OPEN', version: 1, nextNumber: 1 }, tokens: [] };
}

export function applyCommand(state: SlotState, command: DomainCommand, ctx: ApplyContext): ApplyResult {
  const result = dispatch(state, command, ctx);
  // Every change stamps the slot with its time: waiting estimates are computed from it (see estimatedTimes).
  if (result.state !== state && result.state.slot.version !== state.slot.version) {
    return { ...result, state: { slot: { ...result.state.slot, estimateBase: ctx.now }, tokens: result.state.tokens } };
  }
  return result;
}

function dispatch(state: SlotState, command: DomainCommand, ctx: ApplyContext): ApplyResult {
  switch (command.type) {
    case 'token.book':
      return book(state, command, ctx);
    case 'token.cancel':
      return release(state, command.tokenId, 'CANCELLED', ctx, command.reason);
    case 'token.no-show':
      return release(state, command.tokenId, 'NO_SHOW', ctx);
    case 'token.check-in':
      return transition(state, command.tokenId, 'BOOKED', 'CHECKED_IN', ctx);
    case 'token.complete':
      return complete(state, command.tokenId, ctx);
    case 'slot.call-next':
      return callNext(state, ctx);
    case 'token.recall':
      return recall(state, command.tokenId, ctx);
    case 'token.link-move':
      return linkMove(state, command.tokenId, command.movedTo, ctx);
    case 'token.transfer-in':
      return book(
        state,
        {
          type: 'token.book',
          tokenId: command.tokenId,
          source: command.source,
          patient: command.patient,
          onFull: command.onFull,
          arrivalAt: command.arrivalAt,
          movedFromTokenId: command.movedFromTokenId,
        },
        ctx,
        command.present,
      );
    case 'token.transfer-out':
      return transferOut(state, command.tokenId, command.movedTo, ctx);
    case 'token.transfer-abort':
      return transferAbort(state, command.tokenId, command.movedFromTokenId, ctx, command.reason);
    case 'slot.set-capacity':
      return setCapacity(state, command.capacity, ctx);
    case 'slot.delay':
      return delay(state, command.minutes);
    case 'slot.close':
      return closeSlot(state, ctx);
  }
}

/**
 * `present`: the patient is at the desk already (a transferred CHECKED_IN token), so a token that
 * gets a place starts CHECKED_IN whatever its source.
 */
function book(
  state: SlotState,
  command: Extract<DomainCommand, { type: 'token.book' }>,
  ctx: ApplyContext,
  present = false,
): ApplyResult {
  const replay = state.tokens.find((t) => t.id === command.tokenId);
  if (replay) return ok(state, replay.id, 200);

  const { slot } = state;
  if (slot.status === 'CLOSED' || Date.parse(ctx.now) >= Date.parse(slot.end)) {
    return fail(state, 'SLOT_CLOSED', `Slot ${slot.id} is closed for booking`, { slotId: slot.id });
  }

  const duplicate = findLiveTokenOfPatient(state.tokens, command.patient);
  if (duplicate) {
    return fail(state, 'DUPLICATE_BOOKING', 'This patient already holds a live token in this slot', {
      tokenId: duplicate.id,
    });
  }

  // Places whose reservation has lapsed go to the waitlist before a newcomer (quotas are released by
  // time, and the core only acts on commands). Without quotas this never promotes anyone.
  const { state: base, promotedIds } = promoteWhileRoom(state, ctx);
  const withPromotions = (result: ApplyResult): ApplyResult =>
    promotedIds.length === 0
      ? result
      : {
          state: result.outcome.ok ? result.state : bumpVersion(base),
          outcome: result.outcome.ok ? { ...result.outcome, promotedIds } : result.outcome,
          changedTokenIds: [...promotedIds, ...result.changedTokenIds],
        };

  const full = activeCount(base.tokens) >= slot.capacity;
  const isEmergency = command.source === 'EMERGENCY';
  const reserved = isEmergency ? 0 : reservedAgainst(base, command.source, ctx.now);
  let status: TokenStatus;
  if (isEmergency || hasRoomFor(base, command.source, ctx.now)) {
    status = present || PRESENT_ON_ISSUE.has(command.source) ? 'CHECKED_IN' : 'BOOKED';
  } else if (command.onFull === 'waitlist') {
    status = 'WAITLISTED';
  } else if (!full) {
    return withPromotions(
      fail(state, 'SLOT_FULL', `Slot ${slot.id} has no place left for ${command.source}: ${reserved} reserved for other sources`, {
        slotId: slot.id,
        onFull: command.onFull,
        reservedPlaces: reserved,
      }),
    );
  } else {
    return withPromotions(fail(state, 'SLOT_FULL', `Slot ${slot.id} is full`, { slotId: slot.id, onFull: command.onFull }));
  }

  const token: TokenRecord = {
    id: command.tokenId,
    slotId: slot.id,
    number: slot.nextNumber,
    source: command.source,
    weight: SOURCE_WEIGHT[command.source],
    status,
    overCapacity: isEmergency && full,
    patient: command.patient,
    createdAt: ctx.now,
    arrivalAt: command.arrivalAt ?? ctx.now,
    updatedAt: ctx.now,
    ...(slot.labelPrefix !== undefined ? { label: labelFor(slot.labelPrefix, slot.labelBase ?? 0, slot.nextNumber) } : {}),
    ...(command.movedFromTokenId !== undefined ? { movedFrom: command.movedFromTokenId } : {}),
  };
  const next: SlotState = {
    slot: { ...slot, nextNumber: slot.nextNumber + 1, version: slot.version + 1 },
    tokens: [...base.tokens, token],
  };
  return withPromotions({
    state: next,
    outcome: { ok: true, httpStatus: 201, tokenId: token.id, promotedIds: [] },
    changedTokenIds: [token.id],
  });
}

/** Cancel and no-show: the token stops holding capacity, and the freed place is offered to the waitlist. */
function release(
  state: SlotState,
  tokenId: string,
  to: 'CANCELLED' | 'NO_SHOW',
  ctx: ApplyContext,
  reason?: string,
): ApplyResult {
  const token = state.tokens.find((t) => t.id === tokenId);
  if (!token) return notFound(state, tokenId);
  // Cancelling twice is idempotent; anything else out of a final state is an illegal move.
  if (to === 'CANCELLED' && token.status === 'CANCELLED') return ok(state, token.id, 200);
  const allowedFrom: ReadonlySet<TokenStatus> =
    to === 'CANCELLED'
      ? new Set(['BOOKED', 'WAITLISTED', 'CHECKED_IN', 'CALLED'])
      : new Set(['BOOKED', 'CHECKED_IN', 'CALLED']);
  if (!allowedFrom.has(token.status)) return invalidTransition(state, token, to);

  const released = updateToken(state, token.id, { status: to, updatedAt: ctx.now, ...(reason ? { cancelReason: reason } : {}) });
  const { state: promotedState, promotedIds } = promoteWhileRoom(released, ctx);
  return {
    state: bumpVersion(promotedState),
    outcome: { ok: true, httpStatus: 200, tokenId: token.id, promotedIds },
    changedTokenIds: [token.id, ...promotedIds],
  };
}

function transition(
  state: SlotState,
  tokenId: string,
  from: TokenStatus,
  to: TokenStatus,
  ctx: ApplyContext,
  patch: Partial<TokenRecord> = {},
): ApplyResult {
  const token = state.tokens.find((t) => t.id === tokenId);
  if (!token) return notFound(state, tokenId);
  if (token.status !== from) return invalidTransition(state, token, to);
  const next = bumpVersion(updateToken(state, token.id, { status: to, updatedAt: ctx.now, ...patch }));
  return { state: next, outcome: { ok: true, httpStatus: 200, tokenId: token.id, promotedIds: [] }, changedTokenIds: [token.id] };
}

function callNext(state: SlotState, ctx: ApplyContext): ApplyResult {
  // Only a patient who is present (checked in) can be called; the queue order decides who.
  const next = state.tokens.filter((t) => t.status === 'CHECKED_IN').sort(compareQueueOrder)[0];
  if (!next) {
    return fail(state, 'NOT_FOUND', `Nobody present is waiting in slot ${state.slot.id}`, { slotId: state.slot.id });
  }
  return transition(state, next.id, 'CHECKED_IN', 'CALLED', ctx, { calledAt: ctx.now });
}

/**
 * CALLED -> COMPLETED. The consultation's duration (completedAt - calledAt) feeds the slot's moving
 * average of consultation minutes (see recordConsultation); a token without calledAt adds no sample.
 */
function complete(state: SlotState, tokenId: string, ctx: ApplyContext): ApplyResult {
  const result = transition(state, tokenId, 'CALLED', 'COMPLETED', ctx, { completedAt: ctx.now });
  const token = state.tokens.find((t) => t.id === tokenId);
  if (!result.outcome.ok || !token?.calledAt) return result;
  const minutes = (Date.parse(ctx.now) - Date.parse(token.calledAt)) / 60_000;
  const consultation = recordConsultation(consultationOf(state.slot), minutes);
  return { ...result, state: { slot: { ...result.state.slot, consultation }, tokens: result.state.tokens } };
}

/**
 * Promotes the best waitlisted tokens (weight, then arrival) while non-emergency capacity is free.
 * Emergencies over capacity keep the slot full, so nothing is promoted until activeCount < capacity.
 * Quotas apply as to a booking: a token whose source may not take a still-reserved place is skipped
 * for the best one that may (e.g. a waitlisted WALK_IN takes a place reserved for walk-ins).
 */
export function promoteWhileRoom(state: SlotState, ctx: ApplyContext): { state: SlotState; promotedIds: string[] } {
  let current = state;
  const promotedIds: string[] = [];
  for (;;) {
    if (activeCount(current.tokens) >= current.slot.capacity) break;
    const best = current.tokens
      .filter((t) => t.status === 'WAITLISTED')
      .sort(compareQueueOrder)
      .find((t) => hasRoomFor(current, t.source, ctx.now));
    if (!best) break;
    current = updateToken(current, best.id, { status: 'BOOKED', updatedAt: ctx.now });
    promotedIds.push(best.id);
  }
  return { state: current, promotedIds };
}

// ---------------------------------------------------------------------------------------------
// Extensions (issue 4): recall, capacity change, delay, close, labels
// ---------------------------------------------------------------------------------------------

/** Calls a CALLED patient again: counts the recall and bumps the version so displays re-announce. */
function recall(state: SlotState, tokenId: string, ctx: ApplyContext): ApplyResult {
  const token = state.tokens.find((t) => t.id === tokenId);
  if (!token) return notFound(state, tokenId);
  if (token.status !== 'CALLED') return invalidTransition(state, token, 'CALLED');
  const next = bumpVersion(updateToken(state, token.id, { recallCount: (token.recallCount ?? 0) + 1, updatedAt: ctx.now }));
  return { state: next, outcome: { ok: true, httpStatus: 200, tokenId: token.id, promotedIds: [] }, changedTokenIds: [token.id] };
}

/** Records where a MOVED token went, once the slot that took the patient has decided. Idempotent. */
function linkMove(state: SlotState, tokenId: string, movedTo: string, ctx: ApplyContext): ApplyResult {
  const token = state.tokens.find((t) => t.id === tokenId);
  if (!token) return notFound(state, tokenId);
  if (token.status !== 'MOVED') return invalidTransition(state, token, 'MOVED');
  if (token.movedTo === movedTo) return ok(state, token.id, 200);
  const next = bumpVersion(updateToken(state, token.id, { movedTo, updatedAt: ctx.now }));
  return { state: next, outcome: { ok: true, httpStatus: 200, tokenId: token.id, promotedIds: [] }, changedTokenIds: [token.id] };
}

/**
 * Transfer, step 2 (source slot): the old token becomes MOVED with `movedTo`, if it is still
 * BOOKED, CHECKED_IN or WAITLISTED; its place (if it held one) goes to the waitlist at once.
 * Already MOVED to the same token: idempotent (200, no change). Anything else (CALLED, COMPLETED,
 * CANCELLED, NO_SHOW, MOVED elsewhere): INVALID_TRANSITION, and the caller compensates in the target.
 */
function transferOut(state: SlotState, tokenId: string, movedTo: string, ctx: ApplyContext): ApplyResult {
  const token = state.tokens.find((t) => t.id === tokenId);
  if (!token) return notFound(state, tokenId);
  if (token.status === 'MOVED' && token.movedTo === movedTo) return ok(state, token.id, 200);
  if (!TRANSFERABLE_STATUSES.has(token.status)) return invalidTransition(state, token, 'MOVED');
  const moved = updateToken(state, token.id, { status: 'MOVED', movedTo, updatedAt: ctx.now });
  const { state: promotedState, promotedIds } = promoteWhileRoom(moved, ctx);
  return {
    state: bumpVersion(promotedState),
    outcome: { ok: true, httpStatus: 200, tokenId: token.id, promotedIds },
    changedTokenIds: [token.id, ...promotedIds],
  };
}

/**
 * Transfer compensation (target slot): the source refused the move (its token was called,
 * cancelled, or moved elsewhere meanwhile), so the replacing token is cancelled and its place
 * offered to the waitlist. Only a token that replaces `movedFromTokenId` and still waits
 * (BOOKED, CHECKED_IN, WAITLISTED) is cancelled; cancelled already: idempotent. A token that has
 * gone further (CALLED, COMPLETED, NO_SHOW, MOVED) is left as it is: INVALID_TRANSITION.
 */
function transferAbort(state: SlotState, tokenId: string, movedFromTokenId: string, ctx: ApplyContext, reason?: string): ApplyResult {
  const token = state.tokens.find((t) => t.id === tokenId);
  if (!token) return notFound(state, tokenId);
  if (token.movedFrom !== movedFromTokenId) {
    return fail(state, 'INVALID_TRANSITION', `Token ${tokenId} does not replace ${movedFromTokenId}`, { tokenId, movedFromTokenId });
  }
  if (token.status === 'CANCELLED') return ok(state, token.id, 200);
  if (!TRANSFERABLE_STATUSES.has(token.status)) return invalidTransition(state, token, 'CANCELLED');
  return release(state, token.id, 'CANCELLED', ctx, reason ?? 'transfer aborted');
}

/** Tokens whose patient holds a place but may still be asked to wait: booked, not yet at the desk. */
const MOVABLE_ON_DECREASE: ReadonlySet<TokenStatus> = new Set(['BOOKED']);

/**
 * Changes the capacity. An increase promotes waitlisted tokens (weight, then arrival) while there
 * is room. A decrease removes nobody: while the non-emergency tokens holding capacity exceed the
 * new capacity, the newest lowest-priority non-emergency BOOKED token (the last one in queue
 * order) goes back to the WAITLIST. Tokens at the desk or beyond (CHECKED_IN, CALLED, COMPLETED)
 * and emergencies never move; when they alone exceed the new capacity, the capacity is still
 * lowered and the slot stays over it (activeCount > capacity) until they are seen.
 */
function setCapacity(state: SlotState, capacity: number, ctx: ApplyContext): ApplyResult {
  const { slot } = state;
  if (!Number.isInteger(capacity) || capacity < 1) {
    return fail(state, 'VALIDATION_ERROR', 'capacity must be an integer >= 1', { capacity });
  }
  if (slot.status === 'CLOSED') return fail(state, 'SLOT_CLOSED', `Slot ${slot.id} is closed`, { slotId: slot.id });
  if (capacity === slot.capacity) return slotOk(state, [], []);

  const quotas = slot.quotas !== undefined ? { quotas: capQuotas(slot.quotas, capacity) } : {};
  let current: SlotState = { slot: { ...slot, capacity, ...quotas }, tokens: state.tokens };
  const movedIds: string[] = [];
  const nonEmergencyHolding = (tokens: readonly TokenRecord[]) =>
    tokens.filter((t) => t.source !== 'EMERGENCY' && CAPACITY_HOLDING.has(t.status)).length;
  while (nonEmergencyHolding(current.tokens) > capacity) {
    const movable = current.tokens
      .filter((t) => t.source !== 'EMERGENCY' && MOVABLE_ON_DECREASE.has(t.status))
      .sort(compareQueueOrder);
    const last = movable[movable.length - 1];
    if (!last) break; // Nothing movable is left: the slot stays over capacity.
    current = updateToken(current, last.id, { status: 'WAITLISTED', updatedAt: ctx.now });
    movedIds.push(last.id);
  }
  const { state: promoted, promotedIds } = promoteWhileRoom(current, ctx);
  return {
    state: bumpVersion(promoted),
    outcome: { ok: true, httpStatus: 200, tokenId: '', promotedIds, movedIds },
    changedTokenIds: [...movedIds, ...promotedIds],
  };
}

/** The doctor runs late: the delay adds up; the planned start and end stay as they are. */
function delay(state: SlotState, minutes: number): ApplyResult {
  const { slot } = state;
  if (!Number.isInteger(minutes) || minutes < 1) {
    return fail(state, 'VALIDATION_ERROR', 'minutes must be an integer >= 1', { minutes });
  }
  if (slot.status === 'CLOSED') return fail(state, 'SLOT_CLOSED', `Slot ${slot.id} is closed`, { slotId: slot.id });
  const next = bumpVersion({ slot: { ...slot, delayMinutes: (slot.delayMinutes ?? 0) + minutes }, tokens: state.tokens });
  return { state: next, outcome: { ok: true, httpStatus: 200, tokenId: '', promotedIds: [] }, changedTokenIds: [] };
}

/** Statuses whose patients are reallocated when the slot closes. CALLED/COMPLETED were seen already. */
export const MOVED_ON_CLOSE: ReadonlySet<TokenStatus> = new Set(['BOOKED', 'CHECKED_IN', 'WAITLISTED']);

/**
 * Closes the slot (doctor absent). Its live tokens become MOVED (movedTo null until the slot that
 * takes the patient answers); `movedIds` lists them in reallocation order: first the tokens that
 * held a place (queue order: weight, then arrival), then the waitlist in its order. The caller
 * books each into the doctor's later slots. Closing a closed slot changes nothing.
 */
function closeSlot(state: SlotState, ctx: ApplyContext): ApplyResult {
  if (state.slot.status === 'CLOSED') return slotOk(state, [], []);
  const order = closeOrder(state.tokens);
  let current: SlotState = { slot: { ...state.slot, status: 'CLOSED' }, tokens: state.tokens };
  for (const token of order) current = updateToken(current, token.id, { status: 'MOVED', movedTo: null, updatedAt: ctx.now });
  const movedIds = order.map((t) => t.id);
  return {
    state: bumpVersion(current),
    outcome: { ok: true, httpStatus: 200, tokenId: '', promotedIds: [], movedIds },
    changedTokenIds: movedIds,
  };
}

/** Reallocation order of a closing slot: holders in queue order, then the waitlist in its order. */
export function closeOrder(tokens: readonly TokenRecord[]): TokenRecord[] {
  const holders = tokens.filter((t) => t.status === 'BOOKED' || t.status === 'CHECKED_IN').sort(compareQueueOrder);
  const waitlisted = tokens.filter((t) => t.status === 'WAITLISTED').sort(compareQueueOrder);
  return [...holders, ...waitlisted];
}

/** The label prefix of a doctor: the first 3 letters of the name without "Dr.", upper-case. */
export function labelPrefixFor(doctorName: string): string {
  const letters = doctorName
    .trim()
    .replace(/^dr(\.|\s+|$)/i, '')
    .replace(/[^\p{L}]/gu, '');
  return letters.slice(0, 3).toUpperCase() || 'DOC';
}

/** `SMI-007`: the doctor's prefix and the day's counter (slot's labelBase + token number), 3 digits. */
export function labelFor(prefix: string, labelBase: number, number: number): string {
  return `${prefix}-${String(labelBase + number).padStart(3, '0')}`;
}

/**
 * The label counter base of a new slot: the sum of the capacities of the doctor's earlier slots
 * starting the same calendar day in the branch's time zone (IANA name, default UTC). Ties on start
 * are broken by id so the result is stable.
 */
export function labelBaseFor(
  slot: { id: string; start: string },
  doctorSlots: readonly { id: string; start: string; capacity: number }[],
  timeZone = 'UTC',
): number {
  const startMs = Date.parse(slot.start);
  const dayOf = calendarDay(timeZone);
  let base = 0;
  for (const other of doctorSlots) {
    if (other.id === slot.id) continue;
    const otherMs = Date.parse(other.start);
    if (dayOf(otherMs) !== dayOf(startMs)) continue;
    if (otherMs < startMs || (otherMs === startMs && other.id < slot.id)) base += other.capacity;
  }
  return base;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** `YYYY-MM-DD` of an instant in a time zone (deterministic: no clock involved). */
export function calendarDay(timeZone: string): (ms: number) => string {
  if (timeZone === 'UTC') return (ms) => new Date(ms).toISOString().slice(0, 10);
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  const f = format;
  return (ms) => f.format(new Date(ms));
}

// ---------------------------------------------------------------------------------------------
// Extensions (issue 4): per-source quotas and the consultation estimate
// ---------------------------------------------------------------------------------------------

/** True while a quota still holds its places: before `releaseMinutesBeforeStart` minutes before the planned start. */
export function isQuotaReserved(quota: SourceQuota, slot: Pick<SlotRecord, 'start'>, now: string): boolean {
  return Date.parse(now) < Date.parse(slot.start) - quota.releaseMinutesBeforeStart * 60_000;
}

/** Tokens of a source holding a place (the contract's activeCount, per source). */
export function activeCountOf(tokens: readonly TokenRecord[], source: Source): number {
  let count = 0;
  for (const token of tokens) if (token.source === source && CAPACITY_HOLDING.has(token.status)) count += 1;
  return count;
}

/**
 * Places a booking from `source` may not take: for every other source's quota still reserved at
 * `now`, its places not yet filled by active tokens of that source. Emergencies are never held back.
 */
export function reservedAgainst(state: SlotState, source: Source, now: string): number {
  if (source === 'EMERGENCY') return 0;
  let reserved = 0;
  for (const quota of state.slot.quotas ?? []) {
    if (quota.source === source || !isQuotaReserved(quota, state.slot, now)) continue;
    reserved += Math.max(0, quota.places - activeCountOf(state.tokens, quota.source));
  }
  return reserved;
}

/**
 * Whether one more token of `source` may hold a place: an emergency always may (elastic capacity);
 * anyone else only if, after it, the free places still cover the unfilled places reserved for the
 * other sources: `capacity - activeCount - 1 >= reservedAgainst`.
 */
export function hasRoomFor(state: SlotState, source: Source, now: string): boolean {
  if (source === 'EMERGENCY') return true;
  const free = state.slot.capacity - activeCount(state.tokens);
  return free - 1 >= reservedAgainst(state, source, now);
}

/** Problems with a slot's quotas, as `{ path, message }` under `quotas` (used by the request schema). */
export function quotaProblems(
  capacity: number,
  quotas: readonly { source: Source; places: number }[],
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const seen = new Set<Source>();
  quotas.forEach((quota, i) => {
    if (quota.source === 'EMERGENCY') problems.push({ path: [i, 'source'], message: 'EMERGENCY cannot have a quota: emergencies are always accepted' });
    else if (seen.has(quota.source)) problems.push({ path: [i, 'source'], message: `${quota.source} has more than one quota` });
    seen.add(quota.source);
  });
  const sum = quotas.reduce((total, q) => total + q.places, 0);
  if (sum > capacity) problems.push({ path: [], message: `the quotas reserve ${sum} places, more than the capacity ${capacity}` });
  return problems;
}

/**
 * Quotas after a capacity change: while the reserved places exceed the capacity, the last-listed
 * quota gives up places (a quota left with none is dropped). Raising the capacity restores nothing.
 */
export function capQuotas(quotas: readonly SourceQuota[], capacity: number): SourceQuota[] {
  const result = quotas.map((q) => ({ ...q }));
  let excess = result.reduce((total, q) => total + q.places, 0) - capacity;
  for (let i = result.length - 1; i >= 0 && excess > 0; i -= 1) {
    const cut = Math.min(excess, result[i].places);
    result[i].places -= cut;
    excess -= cut;
  }
  return result.filter((q) => q.places > 0);
}

/** Weight of the newest consultation in the moving average. */
export const CONSULTATION_EMA_ALPHA = 0.3;
/** A measured consultation is clamped to this range (minutes) before it counts: a forgotten "complete" is not a 3-hour visit. */
export const CONSULTATION_SAMPLE_MINUTES = { min: 1, max: 120 } as const;

/** Adds one measured consultation to the estimate: avg += alpha * (clamped sample - avg), 2 decimals. */
export function recordConsultation(estimate: ConsultationEstimate, minutes: number): ConsultationEstimate {
  const sample = Math.min(CONSULTATION_SAMPLE_MINUTES.max, Math.max(CONSULTATION_SAMPLE_MINUTES.min, minutes));
  const average = estimate.averageMinutes + CONSULTATION_EMA_ALPHA * (sample - estimate.averageMinutes);
  return { averageMinutes: Math.round(average * 100) / 100, samples: estimate.samples + 1 };
}

/** The same patient is recognised by MRN when the booking has one, else by phone. */
export function findLiveTokenOfPatient(tokens: readonly TokenRecord[], patient: Patient): TokenRecord | undefined {
  const sameMrn = patient.mrn !== undefined;
  if (!sameMrn && patient.phone === undefined) return undefined;
  return tokens.find(
    (t) =>
      LIVE_STATUSES.has(t.status) &&
      (sameMrn ? t.patient.mrn === patient.mrn : t.patient.phone === patient.phone),
  );
}

function updateToken(state: SlotState, tokenId: string, patch: Partial<TokenRecord>): SlotState {
  return { slot: state.slot, tokens: state.tokens.map((t) => (t.id === tokenId ? { ...t, ...patch } : t)) };
}

function bumpVersion(state: SlotState): SlotState {
  return { slot: { ...state.slot, version: state.slot.version + 1 }, tokens: state.tokens };
}

function slotOk(state: SlotState, promotedIds: string[], movedIds: string[]): ApplyResult {
  return { state, outcome: { ok: true, httpStatus: 200, tokenId: '', promotedIds, movedIds }, changedTokenIds: [] };
}

function ok(state: SlotState, tokenId: string, httpStatus: 200 | 201): ApplyResult {
  return { state, outcome: { ok: true, httpStatus, tokenId, promotedIds: [] }, changedTokenIds: [] };
}

function fail(state: SlotState, code: ErrorCode, message: string, details?: Record<string, unknown>): ApplyResult {
  return { state, outcome: { ok: false, code, message, ...(details ? { details } : {}) }, changedTokenIds: [] };
}

function notFound(state: SlotState, tokenId: string): ApplyResult {
  return fail(state, 'NOT_FOUND', `Token ${tokenId} not found`, { tokenId });
}

function invalidTransition(state: SlotState, token: TokenRecord, to: TokenStatus): ApplyResult {
  return fail(state, 'INVALID_TRANSITION', `A ${token.status} token cannot become ${to}`, {
    tokenId: token.id,
    from: token.status,
    to,
  });
}
