import { z } from 'zod';

export const SOURCES = ['EMERGENCY', 'PAID_PRIORITY', 'FOLLOW_UP', 'ONLINE', 'WALK_IN'] as const;
export const SourceSchema = z.enum(SOURCES);
export type Source = z.infer<typeof SourceSchema>;

export const TOKEN_STATUSES = [
  'PENDING',
  'BOOKED',
  'WAITLISTED',
  'CHECKED_IN',
  'CALLED',
  'COMPLETED',
  'CANCELLED',
  'NO_SHOW',
  // Extension: the token's slot was closed and the patient was reallocated (see `movedTo`).
  'MOVED',
] as const;
export const TokenStatusSchema = z.enum(TOKEN_STATUSES);
export type TokenStatus = z.infer<typeof TokenStatusSchema>;

export const SLOT_STATUSES = ['OPEN', 'CLOSED'] as const;
export const SlotStatusSchema = z.enum(SLOT_STATUSES);
export type SlotStatus = z.infer<typeof SlotStatusSchema>;

export const ON_FULL_POLICIES = ['reject', 'waitlist', 'next-slot'] as const;
export const OnFullSchema = z.enum(ON_FULL_POLICIES);
export type OnFull = z.infer<typeof OnFullSchema>;

/** Ids are opaque strings; the charset keeps them safe in URLs, Redis keys and logs. */
export const IdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must contain only letters, digits, "_", "-", ".", ":"');

export const IsoDateTimeSchema = z.iso.datetime({ offset: true });

export const PatientSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  phone: z
    .string()
    .trim()
    .min(3)
    .max(32)
    .regex(/^\+?[0-9 ()-]+$/, 'must be a phone number (digits, spaces, "+", "-", parentheses)')
    .optional(),
  mrn: z.string().trim().min(1).max(64).optional(),
});
export type Patient = z.infer<typeof PatientSchema>;
