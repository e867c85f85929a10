/**
 * Applies one partition's batch of commands to the slots it owns, in order. Returns what must be
 * written and published; touches no database or broker itself (lookups are injected).
 */
import { createHash } from 'node:crypto';
import {
  applyCommand,
  buildSlotView,
  createSlotState,
  findPublicToken,
  labelBaseFor,
  labelPrefixFor,
  seedConsultation,
  toPublicSlot,
  type Outcome,
  type Command,
  type DomainCommand,
  type Reply,
  type SlotState,
  type TokenRecord,
} from '@opd/shared';
import { errorReply, replyFor } from './command-outcomes';
import type { DoctorInfo, LaterSlot } from './slot-repository';

export interface BatchLookups {
  doctors(ids: string[]): Promise<Map<string, DoctorInfo>>;
  laterSlots(doctorId: string, after: string): Promise<LaterSlot[]>;
}

export interface BatchResult {
  /** Slots created or changed, final state after the batch. */
  changedSlots: Map<string, SlotState>;
  changedTokens: Map<string, TokenRecord>;
  replies: { replyTo: string; reply: Reply }[];
  /** Commands for other slots (next-slot bookings), published with the batch's outbox row. */
  forwards: Command[];
}

export interface BatchOptions {
  /** IANA time zone of the branch: the day of the per-doctor label counter. Default UTC. */
  timeZone?: string;
}

export async function applyBatch(
  slots: Map<string, SlotState>,
  commands: readonly Command[],
  now: string,
  lookups: BatchLookups,
  options: BatchOptions = {},
): Promise<BatchResult> {
  const result: BatchResult = { changedSlots: new Map(), changedTokens: new Map(), replies: [], forwards: [] };
  const current = (slotId: string) => result.changedSlots.get(slotId) ?? slots.get(slotId) ?? null;
  const reply = (command: Command, r: Reply) => {
    if (command.replyTo) result.replies.push({ replyTo: command.replyTo, reply: r });
  };

  const creating = commands.filter((c) => c.type === 'slot.create');
  const doctors = await lookups.doctors(creating.map((c) => c.doctorId));

  for (const command of commands) {
    const state = current(command.slotId);
    if (command.type === 'slot.create') {
      if (state) {
        reply(command, { schemaVersion: 1, commandId: command.commandId, status: 200, body: { slot: publicSlot(state) } });
        continue;
      }
      const doctor = doctors.get(command.doctorId);
      if (!doctor) {
        reply(command, errorReply(command, 'NOT_FOUND', `Doctor ${command.doctorId} not found`, { doctorId: command.doctorId }));
        continue;
      }
      const planned = { start: command.start, end: command.end, capacity: command.capacity };
      const created = createSlotState({
        id: command.slotId,
        doctorId: doctor.id,
        branchId: doctor.branchId,
        ...planned,
        delayMinutes: 0,
        labelPrefix: labelPrefixFor(doctor.name),
        // Slots of this doctor that PostgreSQL knows, plus those created earlier in this batch.
        labelBase: labelBaseFor({ id: command.slotId, start: command.start }, doctor.slots, options.timeZone),
        quotas: command.quotas ?? [],
        // The doctor's latest measured average, else the slot's planned pace (length / capacity).
        consultation: seedConsultation(planned, doctor.averageConsultationMinutes),
        estimateBase: now,
      });
      doctor.slots.push({ id: created.slot.id, start: created.slot.start, capacity: created.slot.capacity });
      result.changedSlots.set(created.slot.id, created);
      reply(command, { schemaVersion: 1, commandId: command.commandId, status: 201, body: { slot: publicSlot(created) } });
      continue;
    }

    if (!state) {
      if (command.type === 'token.book' && command.nextSlotIds) {
        await forwardOrFull(command, null);
        continue;
      }
      // A transfer whose source slot is unknown must not leave the new token behind.
      if (command.type === 'token.transfer-out') abortTransfer(command);
      const what =
        command.type === 'token.book' || command.type === 'token.transfer-in' || command.type.startsWith('slot.') ? 'Slot' : 'Token';
      const id = what === 'Slot' ? command.slotId : (command as { tokenId: string }).tokenId;
      reply(command, errorReply(command, 'NOT_FOUND', `${what} ${id} not found`, what === 'Slot' ? { slotId: id } : { tokenId: id }));
      continue;
    }

    // Closing needs the doctor's later slots (advisory, from PostgreSQL) to reallocate into.
    const laterForClose =
      command.type === 'slot.close' && state.slot.status === 'OPEN'
        ? await lookups.laterSlots(state.slot.doctorId, state.slot.start)
        : [];

    const applied = applyCommand(state, toDomainCommand(command), { now });
    if (applied.changedTokenIds.length > 0 || applied.state !== state) {
      result.changedSlots.set(command.slotId, applied.state);
      for (const id of applied.changedTokenIds) {
        const token = applied.state.tokens.find((t) => t.id === id);
        if (token) result.changedTokens.set(id, token);
      }
    }

    const { outcome } = applied;
    if (command.type === 'token.transfer-in' || command.type === 'token.transfer-out') {
      transferStep(command, applied.state, outcome);
      continue;
    }
    if (command.type === 'token.book' && command.movedFromTokenId && command.movedFromSlotId) {
      linkMove(command, outcome);
    }
    if (!outcome.ok && command.type === 'token.book' && command.onFull === 'next-slot' && isUnbookable(outcome.code)) {
      await forwardOrFull(command, state);
      continue;
    }
    if (command.type === 'slot.close' && outcome.ok) {
      reallocate(command, state, applied.state, outcome.movedIds ?? [], laterForClose.map((s) => s.slotId));
    }
    if (command.type === 'slot.set-capacity' || command.type === 'slot.delay' || command.type === 'slot.close') {
      reply(command, slotReply(command, applied.state, outcome));
      continue;
    }
    if (!outcome.ok && outcome.code === 'SLOT_FULL' && command.type === 'token.book') {
      const alternatives = (await lookups.laterSlots(state.slot.doctorId, state.slot.start)).filter((s) => s.available > 0);
      reply(command, errorReply(command, 'SLOT_FULL', outcome.message, { ...outcome.details, alternatives }));
      continue;
    }
    reply(command, replyFor(command, applied.state, outcome));
  }
  return result;

  /** `next-slot`: hand the booking to the next later slot of the doctor; SLOT_FULL when none is left. */
  async function forwardOrFull(command: Extract<Command, { type: 'token.book' }>, state: SlotState | null) {
    let remaining = command.nextSlotIds;
    if (!remaining) {
      remaining = state ? (await lookups.laterSlots(state.slot.doctorId, state.slot.start)).map((s) => s.slotId) : [];
    }
    const [next, ...rest] = remaining;
    if (next) {
      result.forwards.push({ ...command, slotId: next, nextSlotIds: rest });
      return;
    }
    if (command.waitlistSlotId && command.waitlistSlotId !== command.slotId) {
      // A reallocation that found no room anywhere waits in the earliest later slot.
      const { waitlistSlotId, ...rest } = command;
      result.forwards.push({ ...rest, slotId: waitlistSlotId, onFull: 'waitlist', nextSlotIds: [] });
      return;
    }
    reply(
      command,
      errorReply(command, 'SLOT_FULL', 'No later slot of this doctor has room', { slotId: command.slotId, alternatives: [] }),
    );
  }

  /**
   * A closed slot's MOVED tokens, in reallocation order, are booked into the doctor's later open
   * slots: each as a `next-slot` booking through the outbox (the same partition key keeps their
   * order), with the original source (so weight) and arrival, the earliest later slot as the
   * waitlist of last resort, and the old token's id. No later slot at all: the token stays MOVED
   * with movedTo null (the desk rebooks the patient).
   */
  function reallocate(
    command: Extract<Command, { type: 'slot.close' }>,
    before: SlotState,
    after: SlotState,
    movedIds: readonly string[],
    laterSlotIds: string[],
  ) {
    const [first, ...rest] = laterSlotIds;
    if (!first) return;
    movedIds.forEach((oldId, i) => {
      const old = before.tokens.find((t) => t.id === oldId) ?? after.tokens.find((t) => t.id === oldId);
      if (!old) return;
      result.forwards.push({
        schemaVersion: 1,
        commandId: `${command.commandId}.move.${i}`,
        slotId: first,
        issuedAt: now,
        type: 'token.book',
        tokenId: movedTokenId(old.id),
        source: old.source,
        patient: old.patient,
        onFull: 'next-slot',
        nextSlotIds: rest,
        arrivalAt: old.arrivalAt,
        movedFromTokenId: old.id,
        movedFromSlotId: command.slotId,
        waitlistSlotId: first,
      });
    });
  }

  /**
   * The transfer saga (PATCH /api/tokens/{id}/transfer), target first:
   * - `token.transfer-in` in the TARGET slot: refused (SLOT_FULL, SLOT_CLOSED, DUPLICATE_BOOKING)
   *   -> the target replies the error and the source is never told. Booked (or booked already: a
   *   replay, the id is derived) -> `token.transfer-out` to the SOURCE slot through the outbox,
   *   with the same commandId and replyTo: the source gives the client its answer.
   * - `token.transfer-out` in the SOURCE slot: the old token still waits -> MOVED with movedTo, the
   *   place goes to the waitlist, reply 200 `{ token: <new>, from: <old id>, promoted }`. It does
   *   not (called, cancelled, moved elsewhere meanwhile) -> reply its 409 and forward
   *   `token.transfer-abort` to the target, which cancels the new token.
   * The patient always holds at least one live token: the new one exists before the old one goes.
   */
  function transferStep(
    command: Extract<Command, { type: 'token.transfer-in' | 'token.transfer-out' }>,
    after: SlotState,
    outcome: Outcome,
  ) {
    if (command.type === 'token.transfer-in') {
      if (!outcome.ok) {
        reply(command, replyFor(command, after, outcome));
        return;
      }
      const newToken = findPublicToken(after, command.tokenId);
      if (!newToken) return; // Cannot happen: an ok booking holds its token.
      result.forwards.push({
        schemaVersion: 1,
        commandId: command.commandId,
        slotId: command.fromSlotId,
        ...(command.replyTo !== undefined ? { replyTo: command.replyTo } : {}),
        issuedAt: now,
        ...(command.hop !== undefined ? { hop: command.hop } : {}),
        type: 'token.transfer-out',
        tokenId: command.fromTokenId,
        movedTo: command.tokenId,
        toSlotId: command.slotId,
        newToken,
      });
      return;
    }
    if (!outcome.ok) {
      abortTransfer(command);
      reply(command, replyFor(command, after, outcome));
      return;
    }
    const view = buildSlotView(after);
    const promotedId = outcome.promotedIds[0];
    reply(command, {
      schemaVersion: 1,
      commandId: command.commandId,
      status: 200,
      body: {
        token: command.newToken,
        from: command.tokenId,
        promoted: promotedId ? (view.tokens.find((t) => t.id === promotedId) ?? null) : null,
      },
    });
  }

  /** Compensation: the source refused the move, so the target cancels the token it booked. */
  function abortTransfer(command: Extract<Command, { type: 'token.transfer-out' }>) {
    result.forwards.push({
      schemaVersion: 1,
      commandId: `${command.commandId}.abort`,
      slotId: command.toSlotId,
      issuedAt: now,
      ...(command.hop !== undefined ? { hop: command.hop } : {}),
      type: 'token.transfer-abort',
      tokenId: command.movedTo,
      movedFromTokenId: command.tokenId,
      reason: 'transfer aborted: the old token no longer waits in its slot',
    });
  }

  /** Tells the closed slot which token took its patient (the new one, or the one they already held). */
  function linkMove(command: Extract<Command, { type: 'token.book' }>, outcome: Outcome) {
    let movedTo: string | undefined;
    if (outcome.ok) movedTo = outcome.tokenId;
    else if (outcome.code === 'DUPLICATE_BOOKING') movedTo = outcome.details?.tokenId as string | undefined;
    if (!movedTo) return;
    result.forwards.push({
      schemaVersion: 1,
      commandId: `${command.commandId}.link`,
      slotId: command.movedFromSlotId!,
      issuedAt: now,
      type: 'token.link-move',
      tokenId: command.movedFromTokenId!,
      movedTo,
    });
  }
}

/** The id of the token that replaces a moved one: derived, so a replayed close books nothing twice. */
export function movedTokenId(oldTokenId: string): string {
  const h = createHash('sha256').update(`moved:${oldTokenId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Replies of the slot commands: capacity -> slot, promoted, moved; delay -> slot; close -> slot, tokens. */
function slotReply(command: Command, state: SlotState, outcome: Outcome): Reply {
  if (!outcome.ok) return replyFor(command, state, outcome);
  const view = buildSlotView(state);
  const byId = (ids: readonly string[] = []) => ids.map((id) => view.tokens.find((t) => t.id === id)).filter((t) => t !== undefined);
  const body: Record<string, unknown> = { slot: view.slot };
  if (command.type === 'slot.set-capacity') {
    body.promoted = byId(outcome.promotedIds);
    body.moved = byId(outcome.movedIds);
  }
  if (command.type === 'slot.close') body.tokens = byId(outcome.movedIds);
  return { schemaVersion: 1, commandId: command.commandId, status: 200, body };
}

/** Reasons to try the next slot instead: this one is full, closed or over. */
function isUnbookable(code: string): boolean {
  return code === 'SLOT_FULL' || code === 'SLOT_CLOSED';
}

function publicSlot(state: SlotState) {
  return toPublicSlot(state.slot, state.tokens);
}

export function toDomainCommand(command: Exclude<Command, { type: 'slot.create' }>): DomainCommand {
  switch (command.type) {
    case 'token.book':
      return {
        type: 'token.book',
        tokenId: command.tokenId,
        source: command.source,
        patient: command.patient,
        // A reallocation at the end of its chain, in its waitlist-of-last-resort slot, waits here.
        onFull:
          command.waitlistSlotId === command.slotId && (command.nextSlotIds?.length ?? 0) === 0 ? 'waitlist' : command.onFull,
        ...(command.arrivalAt !== undefined ? { arrivalAt: command.arrivalAt } : {}),
        ...(command.movedFromTokenId !== undefined ? { movedFromTokenId: command.movedFromTokenId } : {}),
      };
    case 'token.cancel':
      return { type: 'token.cancel', tokenId: command.tokenId, reason: command.reason };
    case 'token.check-in':
    case 'token.complete':
    case 'token.no-show':
      return { type: command.type, tokenId: command.tokenId };
    case 'slot.call-next':
      return { type: 'slot.call-next' };
    case 'token.recall':
      return { type: 'token.recall', tokenId: command.tokenId };
    case 'token.link-move':
      return { type: 'token.link-move', tokenId: command.tokenId, movedTo: command.movedTo };
    case 'token.transfer-in':
      return {
        type: 'token.transfer-in',
        tokenId: command.tokenId,
        source: command.source,
        patient: command.patient,
        arrivalAt: command.arrivalAt,
        movedFromTokenId: command.fromTokenId,
        present: command.present,
        onFull: command.onFull,
      };
    case 'token.transfer-out':
      return { type: 'token.transfer-out', tokenId: command.tokenId, movedTo: command.movedTo };
    case 'token.transfer-abort':
      return {
        type: 'token.transfer-abort',
        tokenId: command.tokenId,
        movedFromTokenId: command.movedFromTokenId,
        ...(command.reason !== undefined ? { reason: command.reason } : {}),
      };
    case 'slot.set-capacity':
      return { type: 'slot.set-capacity', capacity: command.capacity };
    case 'slot.delay':
      return { type: 'slot.delay', minutes: command.minutes };
    case 'slot.close':
      return { type: 'slot.close' };
  }
}
