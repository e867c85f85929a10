import type { OnFull, Patient, SlotStatus, Source, TokenStatus } from '../schemas/common';

/** Lower weight is served first. */
export const SOURCE_WEIGHT: Readonly<Record<Source, number>> = {
  EMERGENCY: 1,
  PAID_PRIORITY: 2,
  FOLLOW_UP: 3,
  ONLINE: 4,
  WALK_IN: 5,
};

/** Statuses that hold one place of the slot's capacity (the contract's activeCount). */
export const CAPACITY_HOLDING: ReadonlySet<TokenStatus> = new Set([
  'BOOKED',
  'CHECKED_IN',
  'CALLED',
  'COMPLETED',
]);

/** Statuses of a patient who still expects to be seen: used for the duplicate-booking rule. */
export const LIVE_STATUSES: ReadonlySet<TokenStatus> = new Set([
  'BOOKED',
  'WAITLISTED',
  'CHECKED_IN',
  'CALLED',
]);

/** Waiting for the doctor: the queue of the view. */
export const QUEUED_STATUSES: ReadonlySet<TokenStatus> = new Set(['BOOKED', 'CHECKED_IN']);

/** Statuses a token may be transferred (or reallocated on close) from: the patient still waits. */
export const TRANSFERABLE_STATUSES: ReadonlySet<TokenStatus> = new Set(['BOOKED', 'CHECKED_IN', 'WAITLISTED']);

/** Sources whose patients are at the desk when the token is issued. */
export const PRESENT_ON_ISSUE: ReadonlySet<Source> = new Set(['WALK_IN', 'EMERGENCY']);

export interface SlotRecord {
  id: string;
  doctorId: string;
  branchId: string;
  start: string;
  end: string;
  capacity: number;
  status: SlotStatus;
  /** Grows with every change to the slot or one of its tokens. */
  version: number;
  /** The next token number to issue; numbers are never reused. */
  nextNumber: number;
  /** Extension: minutes the doctor runs late, cumulative; start/end stay as planned. */
  delayMinutes?: number;
  /** Extension: token label prefix (first 3 letters of the doctor's name, e.g. SMI). */
  labelPrefix?: string;
  /**
   * Extension: the daily per-doctor label counter starts after this many places: the sum of the
   * capacities of the doctor's earlier slots that day, fixed at slot creation.
   */
  labelBase?: number;
  /**
   * Extension: places of the capacity reserved per source until `releaseMinutesBeforeStart`
   * minutes before the planned start (see `quotaRoomFor`). Sum of places <= capacity; no EMERGENCY.
   */
  quotas?: SourceQuota[];
  /** Extension: the doctor's running consultation estimate for this slot (see `recordConsultation`). */
  consultation?: ConsultationEstimate;
  /**
   * Extension: the time of the slot's last change (the allocator's `now` of that command). Waiting
   * estimates are computed from it, never from the wall clock, so a view is a pure function of the state.
   */
  estimateBase?: string;
}

export interface SourceQuota {
  source: Exclude<Source, 'EMERGENCY'>;
  places: number;
  releaseMinutesBeforeStart: number;
}

export interface ConsultationEstimate {
  /** Exponential moving average of consultation durations, in minutes. */
  averageMinutes: number;
  /** Completed consultations measured in this slot (0: the average is still the seed). */
  samples: number;
}

export interface TokenRecord {
  id: string;
  slotId: string;
  number: number;
  source: Source;
  weight: number;
  status: TokenStatus;
  overCapacity: boolean;
  patient: Patient;
  createdAt: string;
  /** Order among equal weights; kept when a token moves to another slot. */
  arrivalAt: string;
  updatedAt: string;
  cancelReason?: string;
  /** Extension: display label, e.g. SMI-007 (see labelFor). */
  label?: string;
  /** Extension: how many times a CALLED token was called again; absent means 0. */
  recallCount?: number;
  /** Extension: the token this one replaces (its slot was closed). */
  movedFrom?: string;
  /** Extension, MOVED tokens only: the replacing token, null until known (or when none). */
  movedTo?: string | null;
  /** Extension: when the token last became CALLED (kept on recall). */
  calledAt?: string;
  /** Extension: when the token became COMPLETED. */
  completedAt?: string;
}

/** Everything the allocator knows about one slot: the unit of single-writer state. */
export interface SlotState {
  slot: SlotRecord;
  /** In order of issue (ascending number). */
  tokens: TokenRecord[];
}

export type DomainCommand =
  | {
      type: 'token.book';
      tokenId: string;
      source: Source;
      patient: Patient;
      onFull: OnFull;
      /** A reallocated token keeps its original arrival (its place among equal weights). */
      arrivalAt?: string;
      /** A reallocated token names the token it replaces. */
      movedFromTokenId?: string;
    }
  | { type: 'token.cancel'; tokenId: string; reason?: string }
  | { type: 'token.check-in'; tokenId: string }
  | { type: 'token.complete'; tokenId: string }
  | { type: 'token.no-show'; tokenId: string }
  | { type: 'slot.call-next' }
  | { type: 'token.recall'; tokenId: string }
  | { type: 'token.link-move'; tokenId: string; movedTo: string }
  /**
   * Transfer, step 1, in the TARGET slot: books the replacing token (id derived from the old one),
   * keeping source (so weight), patient and arrival; `present` keeps a checked-in patient checked in.
   */
  | {
      type: 'token.transfer-in';
      tokenId: string;
      source: Source;
      patient: Patient;
      arrivalAt: string;
      movedFromTokenId: string;
      present: boolean;
      onFull: 'reject' | 'waitlist';
    }
  /** Transfer, step 2, in the SOURCE slot: the old token becomes MOVED -> movedTo, if still transferable. */
  | { type: 'token.transfer-out'; tokenId: string; movedTo: string }
  /** Transfer, compensation, in the TARGET slot: the source refused, the replacing token is cancelled. */
  | { type: 'token.transfer-abort'; tokenId: string; movedFromTokenId: string; reason?: string }
  | { type: 'slot.set-capacity'; capacity: number }
  | { type: 'slot.delay'; minutes: number }
  | { type: 'slot.close' };
