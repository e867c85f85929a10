import { z } from 'zod';
import {
  IdSchema,
  IsoDateTimeSchema,
  OnFullSchema,
  PatientSchema,
  SlotStatusSchema,
  SourceSchema,
  TokenStatusSchema,
} from './common';
import { quotaProblems } from '../domain/allocation';

// ---- Requests (strict: unknown fields are a 400, as the contract says) ----

export const CreateDoctorRequestSchema = z.strictObject({
  id: IdSchema.optional(),
  branchId: IdSchema,
  name: z.string().trim().min(1).max(200),
  department: z.string().trim().min(1).max(100).optional(),
});
export type CreateDoctorRequest = z.infer<typeof CreateDoctorRequestSchema>;

/** Extension: places reserved for one source until `releaseMinutesBeforeStart` minutes before the start. */
export const SourceQuotaSchema = z.strictObject({
  source: SourceSchema,
  places: z.number().int().min(1).max(10_000),
  releaseMinutesBeforeStart: z.number().int().min(0).max(7 * 24 * 60),
});

export const CreateSlotRequestSchema = z
  .strictObject({
    doctorId: IdSchema,
    start: IsoDateTimeSchema,
    end: IsoDateTimeSchema,
    capacity: z.number().int().min(1).max(10_000),
    quotas: z.array(SourceQuotaSchema).max(4).optional(),
  })
  .refine((slot) => Date.parse(slot.end) > Date.parse(slot.start), {
    message: 'must be after start',
    path: ['end'],
  })
  .superRefine((slot, ctx) => {
    // Each source at most once, no EMERGENCY (always accepted anyway), sum of places <= capacity.
    for (const problem of quotaProblems(slot.capacity, slot.quotas ?? [])) {
      ctx.addIssue({ code: 'custom', message: problem.message, path: ['quotas', ...problem.path] });
    }
  });
export type CreateSlotRequest = z.infer<typeof CreateSlotRequestSchema>;

export const BookRequestSchema = z.strictObject({
  slotId: IdSchema,
  source: SourceSchema,
  patient: PatientSchema,
  onFull: OnFullSchema.optional(),
});
export type BookRequest = z.infer<typeof BookRequestSchema>;

export const CancelRequestSchema = z.strictObject({
  reason: z.string().trim().max(500).optional(),
});
export type CancelRequest = z.infer<typeof CancelRequestSchema>;

/** PATCH /api/slots/{slotId}/capacity (extension). */
export const SetCapacityRequestSchema = z.strictObject({
  capacity: z.number().int().min(1).max(10_000),
});
export type SetCapacityRequest = z.infer<typeof SetCapacityRequestSchema>;

/** PATCH /api/slots/{slotId}/delay (extension): minutes to add to the slot's running delay. */
export const DelaySlotRequestSchema = z.strictObject({
  minutes: z.number().int().min(1).max(600),
});
export type DelaySlotRequest = z.infer<typeof DelaySlotRequestSchema>;

/** What a transfer does when the target slot has no place: refuse (409 SLOT_FULL) or wait there. */
export const TransferOnFullSchema = z.enum(['reject', 'waitlist']);

/** PATCH /api/tokens/{id}/transfer (extension): move a live token to another slot of the branch. */
export const TransferRequestSchema = z.strictObject({
  slotId: IdSchema,
  onFull: TransferOnFullSchema.optional(),
});
export type TransferRequest = z.infer<typeof TransferRequestSchema>;

/** Bodies of the day-flow PATCH/POST endpoints carry nothing; an empty object is allowed. */
export const EmptyRequestSchema = z.strictObject({});

export const SlotIdParamsSchema = z.strictObject({ slotId: IdSchema });
export const TokenIdParamsSchema = z.strictObject({ id: IdSchema });

export const ListSlotsQuerySchema = z.strictObject({
  doctorId: IdSchema,
  date: z.iso.date().optional(),
});

// ---- Responses ----

export const TokenSchema = z.object({
  id: z.string(),
  slotId: z.string(),
  number: z.number().int(),
  source: SourceSchema,
  weight: z.number().int(),
  status: TokenStatusSchema,
  position: z.number().int().nullable(),
  overCapacity: z.boolean(),
  patient: z.object({ name: z.string(), phone: z.string().optional(), mrn: z.string().optional() }),
  createdAt: z.string(),
  // Extensions (absent on older records).
  label: z.string().optional(),
  recallCount: z.number().int().optional(),
  movedFrom: z.string().optional(),
  movedTo: z.string().nullable().optional(),
  /** Waiting tokens (BOOKED, CHECKED_IN) only: when the patient is expected to be called. */
  estimatedAt: z.string().optional(),
  calledAt: z.string().optional(),
  completedAt: z.string().optional(),
});
export type Token = z.infer<typeof TokenSchema>;

export const SlotSchema = z.object({
  id: z.string(),
  doctorId: z.string(),
  branchId: z.string(),
  start: z.string(),
  end: z.string(),
  capacity: z.number().int(),
  activeCount: z.number().int(),
  available: z.number().int(),
  status: SlotStatusSchema,
  // Extension: cumulative delay in minutes (absent on older records).
  delayMinutes: z.number().int().optional(),
  // Extension: per-source reservations (see CreateSlotRequestSchema.quotas); `filled` counts active tokens of the source, at most `places`.
  quotas: z
    .array(
      z.object({
        source: SourceSchema,
        places: z.number().int(),
        releaseMinutesBeforeStart: z.number().int(),
        releasesAt: z.string(),
        filled: z.number().int(),
      }),
    )
    .optional(),
  // Extension: the doctor's running average consultation length in this slot (minutes).
  averageConsultationMinutes: z.number().optional(),
});
export type Slot = z.infer<typeof SlotSchema>;

export const DoctorSchema = z.object({
  id: z.string(),
  branchId: z.string(),
  name: z.string(),
  department: z.string().nullable(),
});
export type Doctor = z.infer<typeof DoctorSchema>;

export interface SlotView {
  slot: Slot;
  nowServing: Token[];
  queue: Token[];
  waitlist: Token[];
  version: number;
}

/** Idempotency-Key: any visible ASCII, as long as a UUID or a bit more. */
export const IdempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be visible ASCII characters');
