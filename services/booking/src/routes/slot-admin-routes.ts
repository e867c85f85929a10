/**
 * Slot administration during the day (extensions): change capacity, announce a delay, close the
 * slot when the doctor is absent. Each is a command on the slot's partition, decided by its
 * single writer like every other change.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  DelaySlotRequestSchema,
  EmptyRequestSchema,
  SetCapacityRequestSchema,
  SlotIdParamsSchema,
  parseRequest,
  type Command,
} from '@opd/shared';
import type { GatewayContext } from '../gateway-context';

export function registerSlotAdminRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const envelope = (slotId: string) => ({
    schemaVersion: 1 as const,
    commandId: randomUUID(),
    slotId,
    replyTo: ctx.instanceId,
    issuedAt: new Date().toISOString(),
  });

  app.patch('/api/slots/:slotId/capacity', async (request, reply) => {
    const { slotId } = parseRequest(SlotIdParamsSchema, request.params, 'params');
    const body = parseRequest(SetCapacityRequestSchema, request.body ?? {}, 'body');
    return run(reply, { ...envelope(slotId), type: 'slot.set-capacity', capacity: body.capacity });
  });

  app.patch('/api/slots/:slotId/delay', async (request, reply) => {
    const { slotId } = parseRequest(SlotIdParamsSchema, request.params, 'params');
    const body = parseRequest(DelaySlotRequestSchema, request.body ?? {}, 'body');
    return run(reply, { ...envelope(slotId), type: 'slot.delay', minutes: body.minutes });
  });

  app.post('/api/slots/:slotId/close', async (request, reply) => {
    const { slotId } = parseRequest(SlotIdParamsSchema, request.params, 'params');
    parseRequest(EmptyRequestSchema, request.body ?? {}, 'body');
    return run(reply, { ...envelope(slotId), type: 'slot.close' });
  });

  async function run(reply: FastifyReply, command: Command) {
    const decision = await ctx.bus.dispatch(command);
    if (!decision) {
      // Not decided in time: the command stays queued; the slot shows the result when applied.
      return reply.code(202).header('Location', `/api/slots/${command.slotId}`).send({ accepted: true });
    }
    return reply.code(decision.status).send(decision.body);
  }
}
