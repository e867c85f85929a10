/**
 * The allocation rules: pure functions over one slot's state. No I/O, no clock, no randomness;
 * the allocator feeds commands in partition order and persists what comes out.
 */
import type { ErrorCode } from '../errors';
import type { Patient, Source, TokenStatus } from '../schemas/common';
import {
  LIVE_STATUSES,
  PRESENT_ON_ISSUE,
  SOURCE_WEIGHT,
  type DomainCommand,
  type SlotRecord,
  type SlotState,
  type TokenRecord,
} from './model';
import { activeCount, compareQueueOrder } from './queue';

export type Outcome =
  | {
      ok: true;
      /** 201 when a token was issued, 200 otherwise (including an idempotent replay). */
      httpStatus: 200 | 201;
      tokenId: string;
      promotedIds: string[];
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
  return { slot: { ...slot, status: 'OPEN', version: 1, nextNumber: 1 }, tokens: [] };
}

export function applyCommand(state: SlotState, command: DomainCommand, ctx: ApplyContext): ApplyResult {
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
      return transition(state, command.tokenId, 'CALLED', 'COMPLETED', ctx);
    case 'slot.call-next':
      return callNext(state, ctx);
  }
}

function book(
  state: SlotState,
  command: { tokenId: string; source: Source; patient: Patient; onFull: 'reject' | 'waitlist' | 'next-slot' },
  ctx: ApplyContext,
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

  const full = activeCount(state.tokens) >= slot.capacity;
  const isEmergency = command.source === 'EMERGENCY';
  let status: TokenStatus;
  if (isEmergency || !full) {
    status = PRESENT_ON_ISSUE.has(command.source) ? 'CHECKED_IN' : 'BOOKED';
  } else if (command.onFull === 'waitlist') {
    status = 'WAITLISTED';
  } else {
    return fail(state, 'SLOT_FULL', `Slot ${slot.id} is full`, { slotId: slot.id, onFull: command.onFull });
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
    arrivalAt: ctx.now,
    updatedAt: ctx.now,
  };
  const next: SlotState = {
    slot: { ...slot, nextNumber: slot.nextNumber + 1, version: slot.version + 1 },
    tokens: [...state.tokens, token],
  };
  return { state: next, outcome: { ok: true, httpStatus: 201, tokenId: token.id, promotedIds: [] }, changedTokenIds: [token.id] };
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
): ApplyResult {
  const token = state.tokens.find((t) => t.id === tokenId);
  if (!token) return notFound(state, tokenId);
  if (token.status !== from) return invalidTransition(state, token, to);
  const next = bumpVersion(updateToken(state, token.id, { status: to, updatedAt: ctx.now }));
  return { state: next, outcome: { ok: true, httpStatus: 200, tokenId: token.id, promotedIds: [] }, changedTokenIds: [token.id] };
}

function callNext(state: SlotState, ctx: ApplyContext): ApplyResult {
  // Only a patient who is present (checked in) can be called; the queue order decides who.
  const next = state.tokens.filter((t) => t.status === 'CHECKED_IN').sort(compareQueueOrder)[0];
  if (!next) {
    return fail(state, 'NOT_FOUND', `Nobody present is waiting in slot ${state.slot.id}`, { slotId: state.slot.id });
  }
  return transition(state, next.id, 'CHECKED_IN', 'CALLED', ctx);
}

/**
 * Promotes the best waitlisted tokens (weight, then arrival) while non-emergency capacity is free.
 * Emergencies over capacity keep the slot full, so nothing is promoted until activeCount < capacity.
 */
export function promoteWhileRoom(state: SlotState, ctx: ApplyContext): { state: SlotState; promotedIds: string[] } {
  let current = state;
  const promotedIds: string[] = [];
  for (;;) {
    if (activeCount(current.tokens) >= current.slot.capacity) break;
    const best = current.tokens.filter((t) => t.status === 'WAITLISTED').sort(compareQueueOrder)[0];
    if (!best) break;
    current = updateToken(current, best.id, { status: 'BOOKED', updatedAt: ctx.now });
    promotedIds.push(best.id);
  }
  return { state: current, promotedIds };
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
