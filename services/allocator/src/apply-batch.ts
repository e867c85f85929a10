/**
 * Applies one partition's batch of commands to the slots it owns, in order. Returns what must be
 * written and published; touches no database or broker itself (lookups are injected).
 */
import {
  applyCommand,
  createSlotState,
  toPublicSlot,
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

export async function applyBatch(
  slots: Map<string, SlotState>,
  commands: readonly Command[],
  now: string,
  lookups: BatchLookups,
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
      const created = createSlotState({
        id: command.slotId,
        doctorId: doctor.id,
        branchId: doctor.branchId,
        start: command.start,
        end: command.end,
        capacity: command.capacity,
      });
      result.changedSlots.set(created.slot.id, created);
      reply(command, { schemaVersion: 1, commandId: command.commandId, status: 201, body: { slot: publicSlot(created) } });
      continue;
    }

    if (!state) {
      if (command.type === 'token.book' && command.nextSlotIds) {
        await forwardOrFull(command, null);
        continue;
      }
      const what = command.type === 'token.book' || command.type === 'slot.call-next' ? 'Slot' : 'Token';
      const id = what === 'Slot' ? command.slotId : (command as { tokenId: string }).tokenId;
      reply(command, errorReply(command, 'NOT_FOUND', `${what} ${id} not found`, what === 'Slot' ? { slotId: id } : { tokenId: id }));
      continue;
    }

    const applied = applyCommand(state, toDomainCommand(command), { now });
    if (applied.changedTokenIds.length > 0 || applied.state !== state) {
      result.changedSlots.set(command.slotId, applied.state);
      for (const id of applied.changedTokenIds) {
        const token = applied.state.tokens.find((t) => t.id === id);
        if (token) result.changedTokens.set(id, token);
      }
    }

    const { outcome } = applied;
    if (!outcome.ok && command.type === 'token.book' && command.onFull === 'next-slot' && isUnbookable(outcome.code)) {
      await forwardOrFull(command, state);
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
    reply(
      command,
      errorReply(command, 'SLOT_FULL', 'No later slot of this doctor has room', { slotId: command.slotId, alternatives: [] }),
    );
  }
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
      return { type: 'token.book', tokenId: command.tokenId, source: command.source, patient: command.patient, onFull: command.onFull };
    case 'token.cancel':
      return { type: 'token.cancel', tokenId: command.tokenId, reason: command.reason };
    case 'token.check-in':
    case 'token.complete':
    case 'token.no-show':
      return { type: command.type, tokenId: command.tokenId };
    case 'slot.call-next':
      return { type: 'slot.call-next' };
  }
}
