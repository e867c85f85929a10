/**
 * Kafka messages. Commands flow gateway -> allocator (topic `opd.commands`, key = slotId);
 * replies flow allocator -> the waiting gateway (`opd.replies`, header `reply-to`);
 * slot snapshots flow allocator -> read side (`opd.events`, key = slotId).
 */
import { z } from 'zod';
import { IdSchema, OnFullSchema, PatientSchema, SlotStatusSchema, SourceSchema, TokenStatusSchema } from './common';
import { TokenSchema, TransferOnFullSchema } from './http';

/** Same fields as the request's quota; EMERGENCY is excluded by the gateway's validation. */
function SourceQuotaRecordSchema() {
  return z.object({
    source: SourceSchema.exclude(['EMERGENCY']),
    places: z.number().int().min(1),
    releaseMinutesBeforeStart: z.number().int().min(0),
  });
}

const envelope = {
  schemaVersion: z.literal(1),
  commandId: z.string().min(1),
  slotId: IdSchema,
  /** Gateway instance waiting for the decision; absent for commands nobody waits for. */
  replyTo: z.string().optional(),
  issuedAt: z.string(),
  /** Set when an allocator forwarded the command from its outbox (published at least once). */
  forwarded: z.boolean().optional(),
  /** Counts the forwards of one command: a command may come back to a slot it passed (to wait there). */
  hop: z.number().int().min(0).optional(),
};

export const SlotCreateCommandSchema = z.object({
  ...envelope,
  type: z.literal('slot.create'),
  doctorId: IdSchema,
  branchId: IdSchema,
  start: z.string(),
  end: z.string(),
  capacity: z.number().int().min(1),
  /** Extension: per-source quotas, validated by the gateway (CreateSlotRequestSchema). */
  quotas: z.array(SourceQuotaRecordSchema()).optional(),
});

export const BookCommandSchema = z.object({
  ...envelope,
  type: z.literal('token.book'),
  tokenId: IdSchema,
  source: SourceSchema,
  patient: PatientSchema,
  onFull: OnFullSchema,
  /** For `next-slot`: the later slots still to try, in order; set when the command is forwarded. */
  nextSlotIds: z.array(IdSchema).optional(),
  // Extensions for a reallocation out of a closed slot (optional: older messages still parse).
  /** The original arrival: the moved token keeps its place among equal weights. */
  arrivalAt: z.string().optional(),
  /** The token this booking replaces; the new token records it as `movedFrom`. */
  movedFromTokenId: IdSchema.optional(),
  /** The closed slot holding `movedFromTokenId`: told the new token id (`token.link-move`). */
  movedFromSlotId: IdSchema.optional(),
  /** When no later slot has room: waitlist in this slot (the earliest later one). */
  waitlistSlotId: IdSchema.optional(),
});

const tokenCommand = <T extends string>(type: T) =>
  z.object({ ...envelope, type: z.literal(type), tokenId: IdSchema });

export const CancelCommandSchema = z.object({
  ...envelope,
  type: z.literal('token.cancel'),
  tokenId: IdSchema,
  reason: z.string().optional(),
});
export const CheckInCommandSchema = tokenCommand('token.check-in');
export const CompleteCommandSchema = tokenCommand('token.complete');
export const NoShowCommandSchema = tokenCommand('token.no-show');
export const CallNextCommandSchema = z.object({ ...envelope, type: z.literal('slot.call-next') });

// ---- Extensions (issue 4): slot administration, recall, reallocation links ----
export const RecallCommandSchema = tokenCommand('token.recall');
/** Sent by the slot that booked a reallocated token back to the closed slot: fills `movedTo`. */
export const LinkMoveCommandSchema = z.object({
  ...envelope,
  type: z.literal('token.link-move'),
  tokenId: IdSchema,
  movedTo: IdSchema,
});
// ---- Extension: transfer of a live token to another slot (a saga over the two slots' writers) ----
/**
 * Step 1, gateway -> TARGET slot: book the replacing token `tokenId` (derived from `fromTokenId`
 * and the target) with the old token's snapshot as the gateway read it. Refused: the target replies.
 * Booked (or already booked: a replay): the target forwards `token.transfer-out` to the source.
 */
export const TransferInCommandSchema = z.object({
  ...envelope,
  type: z.literal('token.transfer-in'),
  tokenId: IdSchema,
  source: SourceSchema,
  patient: PatientSchema,
  arrivalAt: z.string(),
  /** The old token was CHECKED_IN: the new one starts CHECKED_IN when it gets a place. */
  present: z.boolean(),
  onFull: TransferOnFullSchema,
  fromTokenId: IdSchema,
  fromSlotId: IdSchema,
});
/**
 * Step 2, TARGET -> SOURCE slot (forwarded, same commandId and replyTo): the old token becomes
 * MOVED -> `movedTo` if still live, and the source replies 200 with `newToken`; otherwise the
 * source replies 409 and forwards `token.transfer-abort` to the target.
 */
export const TransferOutCommandSchema = z.object({
  ...envelope,
  type: z.literal('token.transfer-out'),
  tokenId: IdSchema,
  movedTo: IdSchema,
  toSlotId: IdSchema,
  /** The new token as the target booked it: the body of the success reply. */
  newToken: TokenSchema,
});
/** Compensation, SOURCE -> TARGET slot: cancel the replacing token (nobody waits for a reply). */
export const TransferAbortCommandSchema = z.object({
  ...envelope,
  type: z.literal('token.transfer-abort'),
  tokenId: IdSchema,
  movedFromTokenId: IdSchema,
  reason: z.string().optional(),
});

export const SetCapacityCommandSchema = z.object({
  ...envelope,
  type: z.literal('slot.set-capacity'),
  capacity: z.number().int().min(1),
});
export const DelaySlotCommandSchema = z.object({
  ...envelope,
  type: z.literal('slot.delay'),
  minutes: z.number().int().min(1),
});
export const CloseSlotCommandSchema = z.object({ ...envelope, type: z.literal('slot.close') });

export const CommandSchema = z.discriminatedUnion('type', [
  SlotCreateCommandSchema,
  BookCommandSchema,
  CancelCommandSchema,
  CheckInCommandSchema,
  CompleteCommandSchema,
  NoShowCommandSchema,
  CallNextCommandSchema,
  RecallCommandSchema,
  LinkMoveCommandSchema,
  TransferInCommandSchema,
  TransferOutCommandSchema,
  TransferAbortCommandSchema,
  SetCapacityCommandSchema,
  DelaySlotCommandSchema,
  CloseSlotCommandSchema,
]);
export type Command = z.infer<typeof CommandSchema>;
export type CommandType = Command['type'];
export type BookCommand = z.infer<typeof BookCommandSchema>;

/** The allocator's decision, already in the contract's HTTP terms, for the gateway to relay. */
export const ReplySchema = z.object({
  schemaVersion: z.literal(1),
  commandId: z.string(),
  status: z.number().int(),
  body: z.unknown(),
});
export type Reply = z.infer<typeof ReplySchema>;

export const TokenRecordSchema = z.object({
  id: z.string(),
  slotId: z.string(),
  number: z.number().int(),
  source: SourceSchema,
  weight: z.number().int(),
  status: TokenStatusSchema,
  overCapacity: z.boolean(),
  patient: PatientSchema,
  createdAt: z.string(),
  arrivalAt: z.string(),
  updatedAt: z.string(),
  cancelReason: z.string().optional(),
  label: z.string().optional(),
  recallCount: z.number().int().optional(),
  movedFrom: z.string().optional(),
  movedTo: z.string().nullable().optional(),
  calledAt: z.string().optional(),
  completedAt: z.string().optional(),
});

export const SlotRecordSchema = z.object({
  id: z.string(),
  doctorId: z.string(),
  branchId: z.string(),
  start: z.string(),
  end: z.string(),
  capacity: z.number().int(),
  status: SlotStatusSchema,
  version: z.number().int(),
  nextNumber: z.number().int(),
  delayMinutes: z.number().int().optional(),
  labelPrefix: z.string().optional(),
  labelBase: z.number().int().optional(),
  quotas: z.array(SourceQuotaRecordSchema()).optional(),
  consultation: z.object({ averageMinutes: z.number(), samples: z.number().int() }).optional(),
  estimateBase: z.string().optional(),
});

/** The whole state of a slot after a change; the read side keeps the highest version it saw. */
export const SlotSnapshotEventSchema = z.object({
  schemaVersion: z.literal(1),
  type: z.literal('slot.snapshot'),
  slot: SlotRecordSchema,
  tokens: z.array(TokenRecordSchema),
});
export type SlotSnapshotEvent = z.infer<typeof SlotSnapshotEventSchema>;

/**
 * What a batch changed in a slot: the slot record and only the tokens created or changed, against
 * `baseVersion` (the slot's version before the batch; 0 for a new slot). A reader that holds the
 * slot at `baseVersion` applies it; any other reader rebuilds the slot from PostgreSQL, which
 * already holds this version (events are published after the commit).
 */
export const SlotChangedEventSchema = z.object({
  schemaVersion: z.literal(1),
  type: z.literal('slot.changed'),
  baseVersion: z.number().int(),
  slot: SlotRecordSchema,
  tokens: z.array(TokenRecordSchema),
});
export type SlotChangedEvent = z.infer<typeof SlotChangedEventSchema>;

export const SlotEventSchema = z.discriminatedUnion('type', [SlotSnapshotEventSchema, SlotChangedEventSchema]);
export type SlotEvent = z.infer<typeof SlotEventSchema>;

export const REPLY_TO_HEADER = 'reply-to';
