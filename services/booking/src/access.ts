/**
 * Who may touch which slot or token: the role table (403), the key's branch (other branches'
 * slots and tokens answer 404, as if they did not exist) and a doctor key's own slots.
 */
import type { FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import { AppError, canSeeBranch, requireAllowed, type Action, type Identity } from '@opd/shared';

export interface SlotRef {
  slotId: string;
  branchId: string;
  doctorId: string;
}

export interface TokenRef {
  tokenId: string;
  slot: SlotRef;
  /** The key that booked it, kept for portal bookings only. */
  ownerKeyId: string | null;
}

/** What routes record for the audit log. */
export interface AuditTarget {
  slotId?: string;
  tokenId?: string;
  branchId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auditTarget?: AuditTarget;
  }
}

export interface Access {
  /**
   * Checks the request's key may do the action on the slot, and names the slot for the audit log.
   * An all-branch key not bound to a doctor needs no lookup (null): the allocator answers 404 itself.
   */
  slot(request: FastifyRequest, slotId: string, action: Action): Promise<SlotRef | null>;
  token(request: FastifyRequest, tokenId: string, action: (ownToken: boolean) => Action): Promise<TokenRef>;
  /** Remembers a portal booking's key, so the portal may cancel it later. */
  recordOwner(tokenId: string, keyId: string): Promise<void>;
}

export function createAccess(pool: Pool): Access {
  // A slot's branch and doctor never change: cache them.
  const slots = new Map<string, SlotRef>();

  async function slotRef(slotId: string): Promise<SlotRef | null> {
    const cached = slots.get(slotId);
    if (cached) return cached;
    const { rows } = await pool.query<{ branch_id: string; doctor_id: string }>('SELECT branch_id, doctor_id FROM slots WHERE id = $1', [
      slotId,
    ]);
    if (!rows[0]) return null;
    const ref = { slotId, branchId: rows[0].branch_id, doctorId: rows[0].doctor_id };
    if (slots.size > 50_000) slots.clear();
    slots.set(slotId, ref);
    return ref;
  }

  function checkSlot(identity: Identity, ref: SlotRef | null, slotId: string): SlotRef {
    if (!ref || !canSeeBranch(identity, ref.branchId)) throw new AppError('NOT_FOUND', `Slot ${slotId} not found`, { slotId });
    if (identity.role === 'doctor' && identity.doctorId && identity.doctorId !== ref.doctorId) {
      throw new AppError('FORBIDDEN', "A doctor's key acts only on that doctor's slots", { slotId });
    }
    return ref;
  }

  return {
    async slot(request, slotId, action) {
      const { identity } = request;
      request.auditTarget = { slotId };
      requireAllowed(identity, action);
      if (identity.branchId === null && !identity.doctorId) return null;
      const ref = checkSlot(identity, await slotRef(slotId), slotId);
      request.auditTarget.branchId = ref.branchId;
      return ref;
    },
    async token(request, tokenId, action) {
      const { identity } = request;
      request.auditTarget = { tokenId };
      const { rows } = await pool.query<{ slot_id: string; branch_id: string; doctor_id: string; key_id: string | null }>(
        `SELECT t.slot_id, s.branch_id, s.doctor_id, o.key_id
           FROM tokens t JOIN slots s ON s.id = t.slot_id LEFT JOIN token_owners o ON o.token_id = t.id
          WHERE t.id = $1`,
        [tokenId],
      );
      const row = rows[0];
      const notFound = new AppError('NOT_FOUND', `Token ${tokenId} not found`, { tokenId });
      if (!row || !canSeeBranch(identity, row.branch_id)) throw notFound;
      request.auditTarget = { tokenId, slotId: row.slot_id, branchId: row.branch_id };
      requireAllowed(identity, action(row.key_id === identity.keyId));
      const slot = checkSlot(identity, { slotId: row.slot_id, branchId: row.branch_id, doctorId: row.doctor_id }, row.slot_id);
      return { tokenId, slot, ownerKeyId: row.key_id };
    },
    async recordOwner(tokenId, keyId) {
      await pool.query('INSERT INTO token_owners (token_id, key_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [tokenId, keyId]);
    },
  };
}
