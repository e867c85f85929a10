import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { Pool } from 'pg';
import type { Command } from '@opd/shared';
import type { Access } from './access';
import type { CommandBus } from './command-bus';
import type { IdempotencyStore } from './idempotency-store';

/** What the gateway's routes need, built once by buildApp. */
export interface GatewayContext {
  instanceId: string;
  pool: Pool;
  bus: CommandBus;
  idempotency: IdempotencyStore;
  access: Access;
}

/** The fields every command starts with; `replyTo` brings the decision back to this instance. */
export function envelope(ctx: GatewayContext, slotId: string) {
  return {
    schemaVersion: 1 as const,
    commandId: randomUUID(),
    slotId,
    replyTo: ctx.instanceId,
    issuedAt: new Date().toISOString(),
  };
}

/**
 * Publishes the command and relays the allocator's decision. Without a decision in time the answer
 * is 202 with `Location` where the result will show: the command stays queued and is applied.
 */
export async function dispatchAndAnswer(ctx: GatewayContext, reply: FastifyReply, command: Command, location: string) {
  const decision = await ctx.bus.dispatch(command);
  if (!decision) return reply.code(202).header('Location', location).send({ accepted: true });
  return reply.code(decision.status).send(decision.body);
}
