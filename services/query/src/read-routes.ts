import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { AppError, IdSchema, ListSlotsQuerySchema, dayRange, SlotIdParamsSchema, TokenIdParamsSchema, parseRequest, requireAllowed } from '@opd/shared';
import type { LiveReads } from './live-reads';
import type { ReadAccess } from './read-access';

const PublicQuerySchema = z.strictObject({ public: z.enum(['1', 'true', '0', 'false']).optional() });
const AuditQuerySchema = z.strictObject({ slotId: IdSchema, limit: z.coerce.number().int().min(1).max(1000).optional() });

/** Reads come from Redis; PostgreSQL is touched only to rebuild a missing entry. */
export function registerReadRoutes(app: FastifyInstance, deps: { reads: LiveReads; access: ReadAccess; pool: Pool; timeZone: string }): void {
  const { reads, access, pool } = deps;

  app.get('/api/tokens/view/:slotId', async (request, reply) => {
    const { slotId } = parseRequest(SlotIdParamsSchema, request.params, 'params');
    parseRequest(PublicQuerySchema, request.query, 'query');
    await access.checkSlot(request, slotId);
    const body = await reads.viewBody(slotId);
    if (body === null) throw new AppError('NOT_FOUND', `Slot ${slotId} not found`, { slotId });
    return reply.type('application/json').send(access.viewBodyFor(request, body));
  });

  app.get('/api/tokens/:id', async (request, reply) => {
    const { id } = parseRequest(TokenIdParamsSchema, request.params, 'params');
    parseRequest(PublicQuerySchema, request.query, 'query');
    const body = await reads.tokenBody(id);
    if (body === null) throw new AppError('NOT_FOUND', `Token ${id} not found`, { tokenId: id });
    const slotId = (JSON.parse(body) as { token: { slotId: string } }).token.slotId;
    await access.checkSlot(request, slotId).catch(() => {
      throw new AppError('NOT_FOUND', `Token ${id} not found`, { tokenId: id });
    });
    return reply.type('application/json').send(access.tokenBodyFor(request, body));
  });

  app.get('/api/slots/:slotId', async (request, reply) => {
    const { slotId } = parseRequest(SlotIdParamsSchema, request.params, 'params');
    parseRequest(PublicQuerySchema, request.query, 'query');
    await access.checkSlot(request, slotId);
    const body = await reads.slotBody(slotId);
    if (body === null) throw new AppError('NOT_FOUND', `Slot ${slotId} not found`, { slotId });
    return reply.type('application/json').send(body);
  });

  app.get('/api/slots', async (request, reply) => {
    const query = parseRequest(ListSlotsQuerySchema, request.query, 'query');
    // From the doctor's slot index in Redis (rebuilt from PostgreSQL only when missing).
    const [from, to] = query.date ? dayRange(query.date, deps.timeZone) : [-Infinity, Infinity];
    const ids = await reads.doctorSlots(query.doctorId, from, to);
    const bodies = await Promise.all(ids.map((id) => reads.slotBody(id)));
    const branchId = request.identity?.branchId ?? null;
    const slots = bodies.flatMap((body) => {
      const slot = body ? (JSON.parse(body) as { slot: { branchId: string } }).slot : null;
      return slot && (branchId === null || slot.branchId === branchId) ? [slot] : [];
    });
    return reply.send({ slots });
  });

  // Extension: who did what to a slot, for admins.
  app.get('/api/audit', async (request, reply) => {
    const query = parseRequest(AuditQuerySchema, request.query, 'query');
    requireAllowed(request.identity, { kind: 'audit' });
    await access.checkSlot(request, query.slotId);
    const { rows } = await pool.query(
      `SELECT at, key_id AS "keyId", role, branch_id AS "branchId", method, route, slot_id AS "slotId", token_id AS "tokenId",
              status, error_code AS "errorCode"
         FROM audit_log WHERE slot_id = $1 AND ($2::text IS NULL OR branch_id = $2)
        ORDER BY id DESC LIMIT $3`,
      [query.slotId, request.identity.branchId, query.limit ?? 200],
    );
    return reply.send({ entries: rows });
  });
}
