import type { Slot, SlotView, Token } from '../schemas/http';
import { CAPACITY_HOLDING, QUEUED_STATUSES, type SlotRecord, type SlotState, type TokenRecord } from './model';

/** Queue order: weight, then arrival, then number (issue order) as the final tie-break. */
export function compareQueueOrder(a: TokenRecord, b: TokenRecord): number {
  if (a.weight !== b.weight) return a.weight - b.weight;
  if (a.arrivalAt !== b.arrivalAt) return a.arrivalAt < b.arrivalAt ? -1 : 1;
  return a.number - b.number;
}

export function activeCount(tokens: readonly TokenRecord[]): number {
  let count = 0;
  for (const token of tokens) if (CAPACITY_HOLDING.has(token.status)) count += 1;
  return count;
}

export function toPublicSlot(slot: SlotRecord, tokens: readonly TokenRecord[]): Slot {
  const active = activeCount(tokens);
  return {
    id: slot.id,
    doctorId: slot.doctorId,
    branchId: slot.branchId,
    start: slot.start,
    end: slot.end,
    capacity: slot.capacity,
    activeCount: active,
    available: Math.max(0, slot.capacity - active),
    status: slot.status,
    // Extension fields appear when the record has them (every slot created since they exist).
    ...(slot.delayMinutes !== undefined ? { delayMinutes: slot.delayMinutes } : {}),
  };
}

export function toPublicToken(token: TokenRecord, position: number | null): Token {
  return {
    id: token.id,
    slotId: token.slotId,
    number: token.number,
    source: token.source,
    weight: token.weight,
    status: token.status,
    position,
    overCapacity: token.overCapacity,
    patient: token.patient,
    createdAt: token.createdAt,
    ...(token.label !== undefined ? { label: token.label } : {}),
    ...(token.recallCount ? { recallCount: token.recallCount } : {}),
    ...(token.movedFrom !== undefined ? { movedFrom: token.movedFrom } : {}),
    ...(token.movedTo !== undefined ? { movedTo: token.movedTo } : {}),
  };
}

export interface FullSlotView extends SlotView {
  /** Every token of the slot, in issue order, with its position: answers GET /api/tokens/{id}. */
  tokens: Token[];
}

/** The prioritized view of a slot, computed the same way by the allocator and the read side. */
export function buildSlotView(state: SlotState): FullSlotView {
  const queued = state.tokens.filter((t) => QUEUED_STATUSES.has(t.status)).sort(compareQueueOrder);
  const waitlisted = state.tokens.filter((t) => t.status === 'WAITLISTED').sort(compareQueueOrder);
  const positions = new Map<string, number>();
  queued.forEach((t, i) => positions.set(t.id, i + 1));
  waitlisted.forEach((t, i) => positions.set(t.id, i + 1));
  const publicToken = (t: TokenRecord) => toPublicToken(t, positions.get(t.id) ?? null);
  return {
    slot: toPublicSlot(state.slot, state.tokens),
    nowServing: state.tokens
      .filter((t) => t.status === 'CALLED')
      .sort(compareQueueOrder)
      .map(publicToken),
    queue: queued.map(publicToken),
    waitlist: waitlisted.map(publicToken),
    version: state.slot.version,
    tokens: state.tokens.map(publicToken),
  };
}

export function findPublicToken(state: SlotState, tokenId: string): Token | null {
  return buildSlotView(state).tokens.find((t) => t.id === tokenId) ?? null;
}
