import type { Slot, SlotView, Token } from '../schemas/http';
import {
  CAPACITY_HOLDING,
  QUEUED_STATUSES,
  type ConsultationEstimate,
  type SlotRecord,
  type SlotState,
  type TokenRecord,
} from './model';

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
    ...(slot.quotas !== undefined
      ? {
          quotas: slot.quotas.map((q) => ({
            source: q.source,
            places: q.places,
            releaseMinutesBeforeStart: q.releaseMinutesBeforeStart,
            releasesAt: new Date(Date.parse(slot.start) - q.releaseMinutesBeforeStart * 60_000).toISOString(),
            filled: Math.min(q.places, tokens.filter((t) => t.source === q.source && CAPACITY_HOLDING.has(t.status)).length),
          })),
        }
      : {}),
    ...(slot.consultation !== undefined ? { averageConsultationMinutes: slot.consultation.averageMinutes } : {}),
  };
}

export function toPublicToken(token: TokenRecord, position: number | null, estimatedAt?: string): Token {
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
    ...(token.calledAt !== undefined ? { calledAt: token.calledAt } : {}),
    ...(token.completedAt !== undefined ? { completedAt: token.completedAt } : {}),
    ...(estimatedAt !== undefined ? { estimatedAt } : {}),
  };
}

/** Bounds (minutes) of the default consultation length: the slot's planned pace, slot length / capacity. */
export const DEFAULT_CONSULTATION_MINUTES = { min: 1, max: 60 } as const;

/** The planned pace of a slot: its length divided by its capacity, clamped to 1..60 minutes, 0.1 precision. */
export function defaultConsultationMinutes(slot: Pick<SlotRecord, 'start' | 'end' | 'capacity'>): number {
  const minutes = (Date.parse(slot.end) - Date.parse(slot.start)) / 60_000 / Math.max(1, slot.capacity);
  const clamped = Math.min(DEFAULT_CONSULTATION_MINUTES.max, Math.max(DEFAULT_CONSULTATION_MINUTES.min, minutes));
  return Math.round(clamped * 10) / 10;
}

/**
 * The consultation estimate of a new slot: the doctor's latest measured average when known
 * (`doctorAverageMinutes`, from the doctor's most recent slot with completed consultations),
 * else the slot's planned pace. It starts with 0 samples of its own.
 */
export function seedConsultation(
  slot: Pick<SlotRecord, 'start' | 'end' | 'capacity'>,
  doctorAverageMinutes?: number | null,
): ConsultationEstimate {
  const seeded = doctorAverageMinutes != null && Number.isFinite(doctorAverageMinutes) && doctorAverageMinutes > 0;
  return { averageMinutes: seeded ? doctorAverageMinutes : defaultConsultationMinutes(slot), samples: 0 };
}

/** A slot's current estimate; slots stored before estimates existed get their planned pace. */
export function consultationOf(slot: SlotRecord): ConsultationEstimate {
  return slot.consultation ?? seedConsultation(slot);
}

/**
 * Estimated call time of every waiting token (BOOKED, CHECKED_IN), by token id. Pure: the clock
 * is the slot's `estimateBase` (its last change), never the wall clock.
 *   base = max(start + delayMinutes, estimateBase)
 *   estimatedAt(position p) = base + (p - 1 + number of CALLED tokens) x average consultation minutes
 */
export function estimatedTimes(state: SlotState, queue?: readonly TokenRecord[]): Map<string, string> {
  const queued = queue ?? state.tokens.filter((t) => QUEUED_STATUSES.has(t.status)).sort(compareQueueOrder);
  const estimates = new Map<string, string>();
  if (queued.length === 0) return estimates;
  const { slot } = state;
  const plannedStart = Date.parse(slot.start) + (slot.delayMinutes ?? 0) * 60_000;
  const base = Math.max(plannedStart, slot.estimateBase ? Date.parse(slot.estimateBase) : plannedStart);
  const stepMs = consultationOf(slot).averageMinutes * 60_000;
  const beingSeen = state.tokens.filter((t) => t.status === 'CALLED').length;
  queued.forEach((token, i) => {
    estimates.set(token.id, new Date(Math.round(base + (i + beingSeen) * stepMs)).toISOString());
  });
  return estimates;
}

export interface FullSlotView extends SlotView {
  /** Every token of the slot, in issue order, with its position: answers GET /api/tokens/{id}. */
  tokens: Token[];
}

/** Queue and waitlist order, positions and estimates: what every public token of the slot needs. */
function ordering(state: SlotState) {
  const queued = state.tokens.filter((t) => QUEUED_STATUSES.has(t.status)).sort(compareQueueOrder);
  const waitlisted = state.tokens.filter((t) => t.status === 'WAITLISTED').sort(compareQueueOrder);
  const positions = new Map<string, number>();
  queued.forEach((t, i) => positions.set(t.id, i + 1));
  waitlisted.forEach((t, i) => positions.set(t.id, i + 1));
  const estimates = estimatedTimes(state, queued);
  const publicToken = (t: TokenRecord) => toPublicToken(t, positions.get(t.id) ?? null, estimates.get(t.id));
  return { queued, waitlisted, publicToken };
}

/** The prioritized view of a slot, computed the same way by the allocator and the read side. */
export function buildSlotView(state: SlotState): FullSlotView {
  const { queued, waitlisted, publicToken } = ordering(state);
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

/** Some tokens of the slot as clients see them, without building the whole view (the allocator's replies). */
export function publicTokens(state: SlotState, tokenIds: readonly string[]): Map<string, Token> {
  const { publicToken } = ordering(state);
  const wanted = new Set(tokenIds);
  const found = new Map<string, Token>();
  for (const token of state.tokens) if (wanted.has(token.id)) found.set(token.id, publicToken(token));
  return found;
}

export function findPublicToken(state: SlotState, tokenId: string): Token | null {
  return publicTokens(state, [tokenId]).get(tokenId) ?? null;
}
