/**
 * Slot administration during the day (extensions): change capacity, announce a delay, close the
 * slot when the doctor is absent. Each is a command on the slot's partition, decided by its
 * single writer like every other change.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  DelaySlotRequestSchema,
  EmptyRequestSchema,
  SetCapacityRequestSchema,
  SlotIdParamsSchema,
  parseRequest,
} from '@opd/shared';
import { dispatchAndAnswer, envelope, type GatewayContext } from '../gateway-context';

export function registerSlotAdminRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  /** Slot administration is the admin's: role, then branch (other branches' slots are 404). */
  async function adminSlot(request: FastifyRequest): Promise<string> {
    const { slotId } = parseRequest(SlotIdParamsSchema, request.params, 'params');
    await ctx.access.slot(request, slotId, { kind: 'setup' });
    return slotId;
  }
  const location = (slotId: string) => `/api/slots/${slotId}`;

  app.patch('/api/slots/:slotId/capacity', async (request, reply) => {
    const body = parseRequest(SetCapacityRequestSchema, request.body ?? {}, 'body');
    const slotId = await adminSlot(request);
    return dispatchAndAnswer(ctx, reply, { ...envelope(ctx, slotId), type: 'slot.set-capacity', capacity: body.capacity }, location(slotId));
  });

  app.patch('/api/slots/:slotId/delay', async (request, reply) => {
    const body = parseRequest(DelaySlotRequestSchema, request.body ?? {}, 'body');
    const slotId = await adminSlot(request);
    return dispatchAndAnswer(ctx, reply, { ...envelope(ctx, slotId), type: 'slot.delay', minutes: body.minutes }, location(slotId));
  });

  app.post('/api/slots/:slotId/close', async (request, reply) => {
    parseRequest(EmptyRequestSchema, request.body ?? {}, 'body');
    const slotId = await adminSlot(request);
    return dispatchAndAnswer(ctx, reply, { ...envelope(ctx, slotId), type: 'slot.close' }, location(slotId));
  });
}
