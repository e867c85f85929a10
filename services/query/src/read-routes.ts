import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import {
  AppError,
  ListSlotsQuerySchema,
  SlotIdParamsSchema,
  TokenIdParamsSchema,
  findTokenSlotId,
  loadSlotStates,
  parseRequest,
} from '@opd/shared';
import type { ViewStore } from './view-store';

/** Reads come from Redis; PostgreSQL is touched only to rebuild a missing entry. */
export function registerReadRoutes(app: FastifyInstance, deps: { store: ViewStore; pool: Pool; timeZone: string }): void {
  const { store, pool } = deps;

  async function rebuild(slotId: string): Promise<boolean> {
    const state = (await loadSlotStates(pool, [slotId])).get(slotId);
    if (!state) return false;
    await store.save(state);
    return true;
  }

  async function readThrough(read: () => Promise<string | null>, slotId: () => Promise<string | null>): Promise<string | null> {
    const cached = await read();
    if (cached !== null) return cached;
    const id = await slotId();
    if (!id || !(await rebuild(id))) return null;
    return read();
  }

  app.get('/api/tokens/view/:slotId', async (request, reply) => {
    const { slotId } = parseRequest(SlotIdParamsSchema, request.params, 'params');
    const body = await readThrough(() => store.getViewBody(slotId), async () => slotId);
    if (body === null) throw new AppError('NOT_FOUND', `Slot ${slotId} not found`, { slotId });
    return reply.type('application/json').send(body);
  });

  app.get('/api/tokens/:id', async (request, reply) => {
    const { id } = parseRequest(TokenIdParamsSchema, request.params, 'params');
    const body = await readThrough(() => store.getTokenBody(id), () => findTokenSlotId(pool, id));
    if (body === null) throw new AppError('NOT_FOUND', `Token ${id} not found`, { tokenId: id });
    return reply.type('application/json').send(body);
  });

  app.get('/api/slots/:slotId', async (request, reply) => {
    const { slotId } = parseRequest(SlotIdParamsSchema, request.params, 'params');
    const body = await readThrough(() => store.getSlotBody(slotId), async () => slotId);
    if (body === null) throw new AppError('NOT_FOUND', `Slot ${slotId} not found`, { slotId });
    return reply.type('application/json').send(body);
  });

  app.get('/api/slots', async (request, reply) => {
    const query = parseRequest(ListSlotsQuerySchema, request.query, 'query');
    // Which slots a doctor has is reference data; their live counts come from the read model.
    const { rows } = await pool.query<{ id: string }>(
      `SELECT id FROM slots WHERE doctor_id = $1
         AND ($2::date IS NULL OR (starts_at AT TIME ZONE $3)::date = $2::date)
       ORDER BY starts_at, id`,
      [query.doctorId, query.date ?? null, deps.timeZone],
    );
    const ids = rows.map((r) => r.id);
    const bodies = await store.getSlotBodies(ids);
    const slots: unknown[] = [];
    for (let i = 0; i < ids.length; i += 1) {
      const body = bodies[i] ?? (await readThrough(() => store.getSlotBody(ids[i]), async () => ids[i]));
      if (body) slots.push(JSON.parse(body).slot);
    }
    return reply.send({ slots });
  });
}
