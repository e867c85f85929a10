/**
 * Transfer of a live token to another slot (PATCH /api/tokens/{id}/transfer): the pure parts the
 * gateway and the allocator share. The saga itself is described in docs/api-extensions.md.
 */
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../errors';
import type { TokenStatus } from '../schemas/common';
import { TRANSFERABLE_STATUSES } from './model';

/**
 * The id of the token that replaces `oldTokenId` in `targetSlotId`: derived, so a replayed or
 * retried transfer to the same slot books nothing twice, and a token id belongs to one slot only
 * (two racing transfers of one token to two slots book two ids; the source accepts one).
 */
export function transferredTokenId(oldTokenId: string, targetSlotId: string): string {
  const h = createHash('sha256').update(`transfer:${oldTokenId}:${targetSlotId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-b${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export type TransferCheck =
  | { ok: true; newTokenId: string; replay: boolean }
  | { ok: false; code: ErrorCode; message: string; details: Record<string, unknown> };

/**
 * The gateway's early answer from what PostgreSQL shows of the old token (advisory: the source
 * slot's writer decides again). Same slot: 400 naming `slotId`. A token MOVED to exactly the token
 * this transfer would create is a retry of a transfer that happened: it goes through again and gets
 * the same answer. Any other status than BOOKED, CHECKED_IN, WAITLISTED: 409 INVALID_TRANSITION.
 */
export function checkTransfer(
  token: { id: string; slotId: string; status: TokenStatus; movedTo?: string | null },
  targetSlotId: string,
): TransferCheck {
  if (targetSlotId === token.slotId) {
    return {
      ok: false,
      code: 'VALIDATION_ERROR',
      message: 'Invalid request: slotId',
      details: { fields: [{ field: 'slotId', message: 'must differ from the slot the token is in' }] },
    };
  }
  const newTokenId = transferredTokenId(token.id, targetSlotId);
  if (token.status === 'MOVED' && token.movedTo === newTokenId) return { ok: true, newTokenId, replay: true };
  if (!TRANSFERABLE_STATUSES.has(token.status)) {
    return {
      ok: false,
      code: 'INVALID_TRANSITION',
      message: `A ${token.status} token cannot be transferred`,
      details: { tokenId: token.id, from: token.status, to: 'MOVED' },
    };
  }
  return { ok: true, newTokenId, replay: false };
}
